#!/usr/bin/env bash
# Packaging smoke test, the way a user meets the library:
#   1. packs AutoGlm.Core, AutoGlm (CPU), AutoGlm.ModelBuilder (and with --cuda AutoGlm.Cuda) into a local folder feed;
#   2. a "maker" console app (AutoGlm + AutoGlm.ModelBuilder) writes a tiny random model to app/path/to/model;
#   3. a fresh console app gets only `dotnet add package AutoGlm` and, as Program.cs, the README's "Use from code"
#      snippet copied verbatim; it is built and run, and must stream text from that model.
#   With --cuda, a third app swaps in `dotnet add package AutoGlm.Cuda` and must restore and build (it is not run:
#   this needs an NVIDIA GPU with CUDA 12.x and cuDNN 9).
# No environment variable, MSBuild property or npm is involved. The last line is "pack-smoke: ok" on success.
#
#   build/pack-smoke.sh [--no-build] [--cuda] [WORK_DIR]
#
# --no-build packs the Release builds already in src/*/bin. Consumers restore into a private package folder (so they
# never see a stale AutoGlm from the user's NuGet cache), falling back to the user's cache for the dependencies.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pack_args=()
cuda=false
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) pack_args+=(--no-build); shift ;;
    --cuda) cuda=true; shift ;;
    *) break ;;
  esac
done
work="${1:-$(mktemp -d -t autoglm-pack-smoke-XXXXXX)}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
feed="$work/feed"
rm -rf "$feed" "$work/maker" "$work/app" "$work/cuda" "$work/packages"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props" | head -1)"

echo "pack-smoke: packing AutoGlm $version into $feed" >&2
for project in src/AutoGlm/AutoGlm.csproj src/AutoGlm.ModelBuilder/AutoGlm.ModelBuilder.csproj; do
  dotnet pack "$root/$project" -c Release -o "$feed" "${pack_args[@]}" -nologo -v quiet >&2
done
dotnet pack "$root/packaging/AutoGlm/AutoGlm.Package.csproj" -c Release -o "$feed" -nologo -v quiet >&2
if [ "$cuda" = true ]; then
  # Restoring ONNX Runtime's GPU build downloads several hundred MiB, so only with --cuda.
  dotnet pack "$root/packaging/AutoGlm.Cuda/AutoGlm.Cuda.Package.csproj" -c Release -o "$feed" -nologo -v quiet >&2
fi

# A private package folder: the AutoGlm just packed is the one restored, and nothing leaks into the user's cache.
export NUGET_PACKAGES="$work/packages"
cat > "$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="autoglm-local" value="$feed" />
  </packageSources>
  <fallbackPackageFolders>
    <add key="user-cache" value="$HOME/.nuget/packages" />
  </fallbackPackageFolders>
</configuration>
XML

echo "pack-smoke: writing a tiny model with the AutoGlm.ModelBuilder package" >&2
dotnet new console -o "$work/maker" -n Maker --framework net10.0 >/dev/null
(
  cd "$work/maker"
  dotnet add package AutoGlm --version "$version" --source "$feed" >&2
  dotnet add package AutoGlm.ModelBuilder --version "$version" --source "$feed" >&2
  cat > Program.cs <<'CS'
using AutoGlm.ModelBuilder;

await RandomCheckpoint.WriteAsync(new RandomCheckpointOptions { Preset = "tiny", Seed = 1 }, Path.Combine(args[0], "checkpoint"));
await GlmModelBuilder.BuildAsync(Path.Combine(args[0], "checkpoint"), Path.Combine(args[0], "model"));
CS
  dotnet build -c Release -nologo -v quiet >&2
  dotnet bin/Release/net10.0/Maker.dll "$work/tiny" >&2
)

echo "pack-smoke: a fresh console app with only 'dotnet add package AutoGlm' and the README snippet" >&2
dotnet new console -o "$work/app" -n PackSmoke --framework net10.0 >/dev/null
cd "$work/app"
dotnet add package AutoGlm --version "$version" --source "$feed" >&2
# The first csharp block under "## Use from code", verbatim.
awk '/^## Use from code/{s=1} s&&/^```csharp/{c=1;next} c&&/^```/{exit} c{print}' "$root/README.md" > Program.cs
[ -s Program.cs ] || { echo "pack-smoke: no csharp block under '## Use from code' in README.md" >&2; exit 1; }
mkdir -p path/to
cp -r "$work/tiny/model" path/to/model
dotnet build -c Release -nologo -v quiet >&2
echo "pack-smoke: running the snippet" >&2
text="$(dotnet bin/Release/net10.0/PackSmoke.dll)"
[ -n "$text" ] || { echo "pack-smoke: the snippet printed nothing" >&2; exit 1; }
echo "generated: ${text//$'\n'/ }"

if [ "$cuda" = true ]; then
  echo "pack-smoke: AutoGlm.Cuda restores and builds (not run: no GPU here)" >&2
  dotnet new console -o "$work/cuda" -n PackSmokeCuda --framework net10.0 >/dev/null
  cp Program.cs "$work/cuda/Program.cs"
  (cd "$work/cuda" && dotnet add package AutoGlm.Cuda --version "$version" --source "$feed" >&2 && dotnet build -c Release -nologo -v quiet >&2)
  if find "$work/cuda/bin" -name 'libonnxruntime_providers_cuda.so' | grep -q .; then echo "pack-smoke: CUDA provider library is in the build output" >&2; fi
fi
echo "pack-smoke: ok"
