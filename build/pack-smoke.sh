#!/usr/bin/env bash
# Packaging smoke test: packs AutoGlm and AutoGlm.ModelBuilder into a local folder feed, creates a fresh console
# project in a temporary folder, adds both with `dotnet add package ... --source <feed>` (the way a user meets the
# library), builds it, and runs it: it builds the tiny random model and generates text through IChatClient.
# Prints the generated text; the last line is "pack-smoke: ok" on success.
#
#   build/pack-smoke.sh [--no-build] [WORK_DIR]
#
# --no-build packs the Release builds already in src/*/bin (as the test does after building). The consumer restores
# into a private package folder (so it never sees a stale AutoGlm from the user's NuGet cache), falling back to the
# user's cache for the dependencies. The ONNX Runtime library comes from the build cache (build/fetch-onnxruntime.sh)
# through the package's AutoGlmOnnxRuntimePath property, or from AUTOGLM_ONNXRUNTIME_PATH when that is set.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pack_args=()
if [ "${1:-}" = "--no-build" ]; then
  pack_args+=(--no-build)
  shift
fi
work="${1:-$(mktemp -d -t autoglm-pack-smoke-XXXXXX)}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
feed="$work/feed"
app="$work/app"
rm -rf "$feed" "$app" "$work/packages" "$work/model"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props" | head -1)"
ort_version="$(sed -n 's:.*<AutoGlmOnnxRuntimeVersion>\(.*\)</AutoGlmOnnxRuntimeVersion>.*:\1:p' "$root/Directory.Build.props" | head -1)"
ort="${AUTOGLM_ONNXRUNTIME_PATH:-${AUTOGLM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/autoglm}/onnxruntime/$ort_version/libonnxruntime.so.1}"
if [ ! -e "$ort" ]; then
  bash "$root/build/fetch-onnxruntime.sh" "$ort_version" "$(dirname "$ort")" >&2
fi

echo "pack-smoke: packing AutoGlm and AutoGlm.ModelBuilder $version into $feed" >&2
for project in AutoGlm AutoGlm.ModelBuilder; do
  dotnet pack "$root/src/$project/$project.csproj" -c Release -o "$feed" "${pack_args[@]}" -nologo -v quiet >&2
done

echo "pack-smoke: creating a console app in $app" >&2
dotnet new console -o "$app" -n PackSmoke --framework net10.0 >/dev/null
cd "$app"
# A private package folder: the AutoGlm just packed is the one restored, and nothing leaks into the user's cache.
# The user's cache serves as a read-only fallback for the dependencies; the user's package sources stay configured.
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
dotnet add package AutoGlm --version "$version" --source "$feed" >&2
dotnet add package AutoGlm.ModelBuilder --version "$version" --source "$feed" >&2

cat > Program.cs <<'CS'
using AutoGlm;
using AutoGlm.Chat;
using AutoGlm.ModelBuilder;
using Microsoft.Extensions.AI;

string folder = args[0];
await RandomCheckpoint.WriteAsync(new RandomCheckpointOptions { Preset = "tiny", Seed = 1 }, Path.Combine(folder, "checkpoint"));
await GlmModelBuilder.BuildAsync(Path.Combine(folder, "checkpoint"), Path.Combine(folder, "model"));
await using GlmModel model = await GlmModel.LoadAsync(Path.Combine(folder, "model"));
using IChatClient client = new AutoGlmChatClient(model);
ChatResponse answer = await client.GetResponseAsync("Hello", new ChatOptions { MaxOutputTokens = 8, Temperature = 0 });
Console.WriteLine($"generated {answer.Usage?.OutputTokenCount} tokens ({answer.FinishReason}): {answer.Text}");
CS

echo "pack-smoke: building" >&2
dotnet build -c Release -nologo -v quiet "-p:AutoGlmOnnxRuntimePath=$ort" >&2
test -e "bin/Release/net10.0/$(basename "$ort")" || { echo "pack-smoke: the ONNX Runtime library was not copied next to the app" >&2; exit 1; }

echo "pack-smoke: running" >&2
dotnet "bin/Release/net10.0/PackSmoke.dll" "$work/model"
echo "pack-smoke: ok"
