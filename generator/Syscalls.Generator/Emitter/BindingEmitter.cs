using System;
using System.Collections.Generic;
using System.Linq;

namespace Syscalls.Generator.Emitter;

/// <summary>
/// The emitter: ABI facts of every target -> C# sources, manifest and API surface. A pure function (no file I/O, no
/// MSBuild) shared by the build host (<c>Syscalls.Generator.Tool emit</c>) and the Roslyn host.
/// </summary>
public static class BindingEmitter
{
    public static EmitResult Emit(EmitInput input)
    {
        if (input.Targets.Count == 0)
        {
            throw new EmitterException("no facts to emit from");
        }
        var dupTargets = input.Targets.GroupBy(t => t.Target).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (dupTargets.Count > 0)
        {
            throw new EmitterException("facts given twice for " + string.Join(", ", dupTargets));
        }
        string? ridOs = null, ridArch = null;
        if (input.Options.Rid is { } rid)
        {
            var parsed = Emission.ParseRid(rid, input.Targets)
                ?? throw new EmitterException($"no facts for {rid} (facts given for {string.Join(", ", input.Targets.Select(t => t.Target))})");
            (ridOs, ridArch) = parsed;
        }
        var targetNames = input.Targets.Select(t => t.Target).OrderBy(t => t, StringComparer.Ordinal).ToList();
        var e = new Emission(input.Options, targetNames, ridOs, ridArch);

        var errors = new List<string>();
        var models = new List<TargetModel>();
        foreach (var facts in input.Targets)
        {
            try
            {
                models.Add(TargetModelBuilder.Build(facts, input, errors));
            }
            catch (EmitterException ex)
            {
                errors.AddRange(ex.Errors);
            }
        }
        var oses = models.GroupBy(m => m.Platform.Os).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => OsModel.Unify(g.First().Platform, g.ToList(), errors)).ToList();
        if (errors.Count > 0)
        {
            throw new EmitterException(errors);
        }

        var files = new List<EmittedFile>();
        var stats = new List<EmitStats>();
        string root = input.Options.RootNamespace;
        if (input.Options.EmitAssemblyAttributes)
        {
            files.Add(new EmittedFile(root + ".AssemblyAttributes.g.cs",
                new CodeWriter().FileHeader("the emitter options").Line("// Blittable signatures only: API.md \"Functions\".")
                    .Line("[assembly: global::System.Runtime.CompilerServices.DisableRuntimeMarshalling]").ToString()));
        }
        foreach (var os in oses)
        {
            var layout = e.LayoutOf(os);
            string stem = root + "." + os.Platform.NamespaceSuffix;
            if (layout.Records.Count > 0 || layout.FunctionPointerTypes.Count > 0)
            {
                files.Add(new EmittedFile(stem + ".Records.g.cs", RecordWriter.Write(os, layout, e)));
            }
            foreach (var cls in layout.Classes)
            {
                if (layout.Constants.Any(c => c.Class == cls) || layout.Guids.Any(g => g.Class == cls))
                {
                    files.Add(new EmittedFile($"{stem}.{cls}.Constants.g.cs", LibraryWriter.WriteConstants(os, layout, cls, e)));
                }
                if (layout.Functions.Any(f => f.Class == cls))
                {
                    files.Add(new EmittedFile($"{stem}.{cls}.Functions.g.cs", LibraryWriter.WriteFunctions(os, layout, cls, e)));
                }
            }
            if (ErrorNameWriter.Write(os, layout, input.Families, e, stem) is { } errorNames)
            {
                files.Add(errorNames);
            }
            int methods = layout.Functions.Sum(f => FunctionWriter.Overloads(f).Count() + (f.Overload.Count > 0 ? 1 : 0));
            stats.Add(new EmitStats(layout.Target, layout.Functions.Count, methods,
                layout.Records.Count + layout.InlineArrays.Count(), layout.Constants.Count + layout.Guids.Count));
        }
        return new EmitResult(files)
        {
            Manifest = ManifestWriter.Manifest(oses, e),
            ApiSurface = ManifestWriter.ApiSurface(oses, e),
            Stats = stats,
        };
    }
}
