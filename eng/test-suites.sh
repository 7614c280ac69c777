# Sourced by eng/test.sh: suites beyond the host's own, appended to its SUITES array ("name|env|command").
# A name "TARGET (RUNNER):suite" is summed into one line per target: "win-x64 (wine): N passed, N failed, N skipped".
# shellcheck shell=bash disable=SC2034

# win-x64 under Wine: each suite publishes its test project self-contained for win-x64 (eng/wine.sh publish) and runs
# the exe under wine64 with a timeout. Missing Wine or a failed publish leaves no report: one failure, never a pass.
# Budget: about a minute to publish each project on an idle machine, under a minute to run each; WINE_TIMEOUT caps
# each run.
WINE_SUITE_TIMEOUT="${WINE_TIMEOUT:-240}"
SUITES+=(
  "win-x64 (wine):bindings|WINE_TIMEOUT=$WINE_SUITE_TIMEOUT|$ROOT/eng/wine.sh suite $CONFIG Syscalls.Bindings.Tests"
  # The whole runtime test project: every server theory runs on each Windows backend (AFD and WSAPoll poller servers,
  # IOCP ring server, emulated ring on AFD, threads); Linux-only tests (LD_PRELOAD shim, io_uring, epoll) skip, saying
  # why.
  "win-x64 (wine):runtime|WINE_TIMEOUT=$WINE_SUITE_TIMEOUT|$ROOT/eng/wine.sh suite $CONFIG Syscalls.Runtime.Tests"
  # Kestrel on every Windows transport (sockets, afd, wsapoll, iocp, emulated, threads). Skipped there, saying why: TLS
  # (Wine 8's CNG cannot make the certificate's key), curl/h2load (Debian's), and the sample's Unix signal cases.
  "win-x64 (wine):aspnetcore|WINE_TIMEOUT=$WINE_SUITE_TIMEOUT|$ROOT/eng/wine.sh suite $CONFIG Syscalls.AspNetCore.Tests"
)

# Other targets keep their suites in eng/test-suites-<runner>.sh (linux-arm64 under qemu: test-suites-qemu.sh).
for extra in "$ROOT"/eng/test-suites-*.sh; do
  [[ -f "$extra" ]] && source "$extra"
done
unset extra
