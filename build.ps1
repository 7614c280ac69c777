#!/usr/bin/env pwsh
# Syscalls build entry point for PowerShell; same verbs as build.sh:
#   ./build.ps1 [all|setup|build|test|pack|regen|echo|web|bench|help] [args...]
# The project's tooling (header packages from Debian/npm, cross compilers, wine, qemu) is Debian-based, so on
# Linux and macOS this forwards to build.sh; on Windows it runs the .NET parts directly.
param([Parameter(Position = 0)][string]$Verb = 'all', [Parameter(ValueFromRemainingArguments = $true)][string[]]$Rest)
$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot
if (-not $IsWindows) {
    & bash (Join-Path $root 'build.sh') $Verb @Rest
    exit $LASTEXITCODE
}
$config = if ($env:CONFIG) { $env:CONFIG } else { 'Release' }
switch ($Verb) {
    'all'   { dotnet build (Join-Path $root 'Interop.sln') -c $config; dotnet pack (Join-Path $root 'bindings/Syscalls.Bindings') -c $config -o (Join-Path $root 'artifacts/packages') }
    'setup' { dotnet restore (Join-Path $root 'Interop.sln') }
    'build' { dotnet build (Join-Path $root 'Interop.sln') -c $config }
    'web'   { dotnet run --project (Join-Path $root 'samples/Web') -c $config -- @Rest; exit $LASTEXITCODE }
    'pack'  { dotnet pack (Join-Path $root 'bindings/Syscalls.Bindings') -c $config -o (Join-Path $root 'artifacts/packages') }
    'test'  {
        dotnet build (Join-Path $root 'Interop.sln') -c $config
        $p = 0; $f = 0; $s = 0
        foreach ($t in 'Syscalls.Bindings.Tests', 'Syscalls.Runtime.Tests', 'Syscalls.AspNetCore.Tests') {
            $exe = Join-Path $root "tests/$t/bin/$config/net10.0/$t.exe"
            $xml = Join-Path $root "artifacts/test-results/$t.xml"
            New-Item -ItemType Directory -Force (Split-Path $xml) | Out-Null
            & $exe -result-xml $xml -noColor
            if (Test-Path $xml) { $a = ([xml](Get-Content $xml)).assemblies.assembly; $p += [int]$a.passed; $f += [int]$a.failed; $s += [int]$a.skipped } else { $f += 1 }
        }
        "$p passed, $f failed, $s skipped"
        if ($f -gt 0) { exit 1 }
    }
    default { Write-Error "build.ps1: '$Verb' needs the Debian tooling (header packages, cross compilers); run it on Linux"; exit 2 }
}
