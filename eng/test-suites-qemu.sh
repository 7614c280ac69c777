# shellcheck shell=bash
# linux-arm64 under qemu-user: sourced by eng/test.sh (through eng/test-suites.sh) to add these suites to SUITES.
# Each publishes its test project for linux-arm64 (self-contained) and runs it with qemu-aarch64-static; the
# "linux-arm64 (qemu)" group gets its own summary line. The bindings layout tests prove the arm64 layouts on a real
# arm64 process; the runtime tests run with io_uring absent (ENOSYS under qemu), i.e. the automatic fallback end to
# end. eng/qemu.sh lists the tests left out under qemu and why. Budget: about 8 minutes for the group.
SUITES+=(
  "linux-arm64 (qemu):bindings||$ROOT/eng/qemu.sh suite $CONFIG Syscalls.Bindings.Tests"
  "linux-arm64 (qemu):runtime||$ROOT/eng/qemu.sh suite $CONFIG Syscalls.Runtime.Tests"
)
