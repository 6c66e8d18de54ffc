using System.Globalization;
using System.Text;

namespace Serverless.Testing;

/// <summary>Seeded CSVs with a known signal, for real training in tests.</summary>
public static class SyntheticData
{
    /// <summary>churned (yes/no) from 2·x1 − x2 + 1.5·[color = red] + noise; customer_id is a key, signup is noise.</summary>
    public static string BinaryCsv(int rows)
    {
        var random = new Random(42);
        var text = new StringBuilder("customer_id,x1,x2,color,signup,churned\n");
        string[] colors = ["red", "green", "blue"];
        for (var i = 0; i < rows; i++)
        {
            var (x1, x2) = (Normal(random), Normal(random));
            var color = colors[random.Next(3)];
            var score = (2 * x1) - x2 + (color == "red" ? 1.5 : 0) + (0.3 * Normal(random));
            text.Append(CultureInfo.InvariantCulture, $"C-{i:0000},{x1:0.####},{x2:0.####},{color},2026-{1 + (i % 12):00}-{1 + (i % 28):00},{(score > 0.5 ? "yes" : "no")}\n");
        }

        return text.ToString();
    }

    /// <summary>y = 3·x1 + 2·x2 + noise.</summary>
    public static string RegressionCsv(int rows)
    {
        var random = new Random(42);
        var text = new StringBuilder("x1,x2,y\n");
        for (var i = 0; i < rows; i++)
        {
            var (x1, x2) = (Normal(random), Normal(random));
            text.Append(CultureInfo.InvariantCulture, $"{x1:0.####},{x2:0.####},{(3 * x1) + (2 * x2) + (0.2 * Normal(random)):0.####}\n");
        }

        return text.ToString();
    }

    /// <summary>species from three clusters in (x1, x2).</summary>
    public static string MulticlassCsv(int rows)
    {
        var random = new Random(42);
        var text = new StringBuilder("x1,x2,species\n");
        (double X, double Y, string Name)[] centers = [(0, 0, "setosa"), (4, 0, "versicolor"), (2, 4, "virginica")];
        for (var i = 0; i < rows; i++)
        {
            var center = centers[i % 3];
            text.Append(CultureInfo.InvariantCulture, $"{center.X + Normal(random):0.####},{center.Y + Normal(random):0.####},{center.Name}\n");
        }

        return text.ToString();
    }

    public static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>customer_id, x1, x2, color (and churned from 2·x1 − x2 + [red]); every <paramref name="badEvery"/>-th x1 is not a number.</summary>
    public static string CustomersCsv(int rows, int seed, bool withLabel, int badEvery)
    {
        var random = new Random(seed);
        var text = new StringBuilder(withLabel ? "customer_id,x1,x2,color,churned\n" : "customer_id,x1,x2,color\n");
        string[] colors = ["red", "green", "blue"];
        for (var i = 1; i <= rows; i++)
        {
            var (x1, x2) = (random.NextDouble() * 4 - 2, random.NextDouble() * 4 - 2);
            var color = colors[random.Next(3)];
            var x1Text = badEvery > 0 && i % badEvery == 0 ? "not-a-number" : x1.ToString("0.####", CultureInfo.InvariantCulture);
            text.Append(CultureInfo.InvariantCulture, $"C-{i:0000},{x1Text},{x2:0.####},{color}");
            if (withLabel)
            {
                text.Append(2 * x1 - x2 + (color == "red" ? 1 : 0) > 0.3 ? ",yes" : ",no");
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>
    /// A wide CSV for benchmarks, written to <paramref name="path"/>: id, 15 numbers n0..n14 and 5 categories c0..c4 of
    /// 6 levels, and a yes/no label from n0..n3 and c0 = a plus noise when <paramref name="withLabel"/> (about 110 bytes a row).
    /// </summary>
    public static void WriteWideCsv(string path, long rows, int seed, bool withLabel)
    {
        var random = new Random(seed);
        string[] levels = ["a", "b", "c", "d", "e", "f"];
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        var header = new StringBuilder("id");
        for (var i = 0; i < 15; i++)
        {
            header.Append(CultureInfo.InvariantCulture, $",n{i}");
        }

        for (var i = 0; i < 5; i++)
        {
            header.Append(CultureInfo.InvariantCulture, $",c{i}");
        }

        writer.WriteLine(withLabel ? header + ",label" : header.ToString());
        var line = new StringBuilder();
        for (long r = 0; r < rows; r++)
        {
            line.Clear().Append(CultureInfo.InvariantCulture, $"R{r}");
            double signal = 0;
            for (var i = 0; i < 15; i++)
            {
                var x = (random.NextDouble() * 2) - 1;
                signal += i < 4 ? x * (i + 1) : 0;
                line.Append(',').Append(x.ToString("0.###", CultureInfo.InvariantCulture));
            }

            for (var i = 0; i < 5; i++)
            {
                var level = levels[random.Next(levels.Length)];
                signal += i == 0 && level == "a" ? 1.5 : 0;
                line.Append(',').Append(level);
            }

            if (withLabel)
            {
                line.Append(signal + (random.NextDouble() - 0.5) > 0 ? ",yes" : ",no");
            }

            writer.WriteLine(line);
        }
    }
}
