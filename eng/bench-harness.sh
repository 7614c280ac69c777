# shellcheck shell=bash
# Sourced by eng/bench.sh and eng/bench-http.sh: the shared harness copied out of its read-only home, and a sample
# published to be measured beside it.

# harness_copy SRC DEST: a fresh, writable copy of the harness sources in DEST (the echo harness, its .NET peer and the
# http harness with its Kestrel peer; logs of earlier runs stay), insulated from this repository's build settings.
harness_copy() {
  local src=$1 dest=$2 dir
  mkdir -p "$dest"
  find "$src" -maxdepth 1 -type f -exec cp -f {} "$dest/" \;
  for dir in dotnet_sockets http http/kestrel_plain; do
    [[ -d "$src/$dir" ]] || continue
    mkdir -p "$dest/$dir"
    find "$src/$dir" -maxdepth 1 -type f -exec cp -f {} "$dest/$dir/" \;
  done
  chmod -R u+w "$dest"
  # The harness's own .NET peers must not pick up this repository's build settings (central packages, analyzers).
  echo '<Project />' > "$dest/Directory.Build.props"
  echo '<Project />' > "$dest/Directory.Packages.props"
  echo '<Project />' > "$dest/Directory.Build.targets"
}

# sample_publish NAME CONFIG: publishes samples/NAME to artifacts/<name> and prints the binary's path.
sample_publish() {
  local name=$1 config=$2 out
  out="$ROOT/artifacts/${name,,}"
  echo "bench: publishing samples/$name ($config)" >&2
  dotnet publish "$ROOT/samples/$name/$name.csproj" -c "$config" -o "$out" -v quiet -nologo -clp:NoSummary >&2
  echo "$out/$name"
}
