#!/usr/bin/env bash
# Prints the path of the pinned Bicep compiler (tools/bicep/bicep.csproj), restoring the NuGet
# package first when the cache does not hold it yet. Restores are cached in NuGet's global
# packages folder (~/.nuget/packages, or $NUGET_PACKAGES), so a second run costs nothing.
#   "$(tools/bicep/bicep.sh)" build infra/main.bicep
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version=$(sed -n 's:.*<BicepVersion>\(.*\)</BicepVersion>.*:\1:p' "$here/bicep.csproj")
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
bin="$packages/azure.bicep.commandline.linux-x64/$version/tools/bicep"

if [ ! -x "$bin" ]; then
  if ! command -v dotnet > /dev/null; then
    echo "tools/bicep/bicep.sh: no 'dotnet' on this machine: the Bicep compiler comes from NuGet through the .NET SDK (see infra/README.md, Compiling)" >&2
    exit 1
  fi
  # Restore output goes to stderr: stdout carries only the path.
  dotnet restore "$here/bicep.csproj" --packages "$packages" --nologo --verbosity quiet >&2
  chmod +x "$bin"
fi
[ -x "$bin" ] || { echo "tools/bicep/bicep.sh: restored, but $bin is missing" >&2; exit 1; }
echo "$bin"
