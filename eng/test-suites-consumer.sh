# shellcheck shell=bash
# Sourced by eng/test.sh (through eng/test-suites.sh): tests/Syscalls.Consumer.Tests, a consumer of the PACKED
# Syscalls.Bindings, on each target that can run it. eng/consumer.sh packs the package of the tree's version first when
# artifacts/packages lacks it (a fresh clone's `./build.sh test`), then builds or publishes the project against it.
#   consumer                     natively: samples/RawEcho's epoll server against real clients, RawEcho built for all
#                                five RIDs and the README's example built as a new project (no warning), no casts
#   win-x64 (wine):consumer      the WSAPoll server under Wine (the SDK-driven tests skip: they run on the build host)
#   linux-arm64 (qemu):consumer  the epoll server in an arm64 process (16-byte epoll_event) under qemu-user
# Budget (measured on the shared 2-core machine): natively ~1 minute (the five RID builds and the README project are
# most of it), plus ~25-90 s once for the pack when artifacts/packages lacks this tree's version; Wine and qemu ~20 s
# each (a publish, then seconds of tests: the SDK-driven and source tests skip there, saying why).
SUITES+=(
  "consumer||$ROOT/eng/consumer.sh suite $CONFIG"
  "win-x64 (wine):consumer|WINE_TIMEOUT=${WINE_TIMEOUT:-240}|$ROOT/eng/consumer.sh wine $CONFIG"
  "linux-arm64 (qemu):consumer||$ROOT/eng/consumer.sh qemu $CONFIG"
)
