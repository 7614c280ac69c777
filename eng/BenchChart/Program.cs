using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using ScottPlot;

namespace Syscalls.Eng.BenchChart;

/// <summary>Grouped bar chart from a TSV of <c>group, series, value</c> rows (one bar each; groups and series keep the
/// order they first appear in): <c>BenchChart --data FILE.tsv --out FILE.png|FILE.svg --title T --ylabel Y</c>.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
            options[args[i]] = args[i + 1];
        if (!options.TryGetValue("--data", out string? data) || !options.TryGetValue("--out", out string? output) || args.Length % 2 != 0)
        {
            Console.Error.WriteLine("usage: BenchChart --data FILE.tsv --out FILE.png|FILE.svg [--title T] [--ylabel Y]");
            return 2;
        }

        var rows = new List<(string Group, string Series, double Value)>();
        foreach (string line in File.ReadLines(data))
        {
            string[] f = line.Split('\t');
            if (f.Length != 3 || !double.TryParse(f[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                Console.Error.WriteLine($"BenchChart: {data}: not 'group<TAB>series<TAB>value': '{line}'");
                return 1;
            }

            rows.Add((f[0], f[1], value));
        }

        if (rows.Count == 0)
        {
            Console.Error.WriteLine($"BenchChart: {data} has no rows");
            return 1;
        }

        Plot plot = Draw(rows, options.GetValueOrDefault("--title", ""), options.GetValueOrDefault("--ylabel", ""));
        int width = Math.Max(900, 200 + rows.Count * 24);
        if (output.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
            plot.SaveSvg(output, width, 480);
        else
            plot.SavePng(output, width, 480);
        Console.WriteLine($"BenchChart: wrote {output}");
        return 0;
    }

    private static Plot Draw(List<(string Group, string Series, double Value)> rows, string title, string ylabel)
    {
        string[] groups = rows.Select(r => r.Group).Distinct().ToArray();
        string[] series = rows.Select(r => r.Series).Distinct().ToArray();
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        double slot = 0.8 / series.Length;   // each group spans 0.8 of its unit, one slot per series
        var bars = new List<Bar>();
        for (int s = 0; s < series.Length; s++)
        {
            Color color = palette.GetColor(s);
            foreach ((string group, string name, double value) in rows.Where(r => r.Series == series[s]))
            {
                int g = Array.IndexOf(groups, group);
                bars.Add(new Bar
                {
                    Position = g - 0.4 + slot * (s + 0.5),
                    Value = value,
                    Size = slot * 0.9,
                    FillColor = color,
                    Label = value.ToString(value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture),
                });
            }

            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s], FillColor = color });
        }

        ScottPlot.Plottables.BarPlot plotted = plot.Add.Bars(bars);
        plotted.ValueLabelStyle.FontSize = 9;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, groups.Length).Select(i => (double)i).ToArray(), groups);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.HideGrid();
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.Title(title);
        plot.YLabel(ylabel);
        plot.Axes.Left.Label.FontSize = 13;
        plot.ShowLegend(Edge.Right);   // beside the plot: never over a bar
        return plot;
    }
}
