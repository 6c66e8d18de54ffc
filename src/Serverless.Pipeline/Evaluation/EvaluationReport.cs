using System.Globalization;
using System.Net;
using System.Text;
using ScottPlot;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Evaluation;

/// <summary>A trial of the sweep as the report shows it.</summary>
public sealed record TrialPoint(int Index, string Trainer, IReadOnlyDictionary<string, double> Parameters, double Value, bool Stopped);

/// <summary>What the report is about: the model, its run and data, the chosen configuration and the sweep.</summary>
public sealed record ReportContext(string Model, string RunId, string DatasetSnapshotId, TrialConfiguration Chosen, IReadOnlyList<TrialPoint> Trials);

/// <summary>
/// The evaluation report: PNG charts (ROC, precision-recall, calibration, confusion matrix, feature importance,
/// residuals, and the trials against the primary metric) drawn with ScottPlot, and one self-contained HTML page that
/// embeds them with the metric tables.
/// </summary>
public static class EvaluationReport
{
    private const int Width = 560;
    private const int Height = 400;

    /// <summary>The charts that apply to the evaluation's task, by file name.</summary>
    public static IReadOnlyDictionary<string, byte[]> Charts(ModelEvaluation evaluation, ReportContext context)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        ArgumentNullException.ThrowIfNull(context);
        var charts = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var binary = evaluation.Predictions.Where(p => p.Probability is not null).ToList();
        if (evaluation.Task == MlTask.BinaryClassification && binary.Count > 0)
        {
            var (fpr, tpr) = RocCurve(binary);
            charts["roc.png"] = Line("ROC curve", "False positive rate", "True positive rate", fpr, tpr, diagonal: true);
            var (recall, precision) = PrecisionRecallCurve(binary);
            charts["pr.png"] = Line("Precision-recall curve", "Recall", "Precision", recall, precision, diagonal: false);
            var (predicted, observed) = Calibration(binary, bins: 10);
            charts["calibration.png"] = Line("Calibration", "Mean predicted probability", "Fraction positive", predicted, observed, diagonal: true);
        }

        if (evaluation.Confusion is { } confusion)
        {
            charts["confusion.png"] = ConfusionChart(confusion);
        }

        if (evaluation.Task == MlTask.Regression && evaluation.Predictions.Count > 0)
        {
            charts["residuals.png"] = Residuals(evaluation.Predictions);
        }

        if (evaluation.Importance.Count > 0)
        {
            charts["importance.png"] = ImportanceChart(evaluation.Importance, evaluation.PrimaryMetric);
        }

        if (context.Trials.Count > 0)
        {
            charts["trials.png"] = TrialsChart(context.Trials, evaluation.PrimaryMetric);
        }

        return charts;
    }

    /// <summary>One HTML page with the metrics, the sweep and the charts embedded (no other files needed to view it).</summary>
    public static string Html(ModelEvaluation evaluation, ReportContext context, IReadOnlyDictionary<string, byte[]> charts)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(charts);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
            .Append(Encode($"{context.Model}: evaluation of run {context.RunId}"))
            .Append("</title><style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}img{margin:0.5em;border:1px solid #eee}</style></head><body>");
        html.Append("<h1>").Append(Encode(context.Model)).Append("</h1>");
        html.Append("<p>Run <code>").Append(Encode(context.RunId)).Append("</code>, dataset snapshot <code>").Append(Encode(context.DatasetSnapshotId))
            .Append("</code>, task ").Append(Encode(evaluation.Task.ToString())).Append(", primary metric <b>").Append(Encode(evaluation.PrimaryMetric)).Append("</b>")
            .Append(evaluation.PositiveClass is { } positive ? $", positive class <b>{Encode(positive)}</b> (the probability, F1, precision, recall and AUPRC are about it)" : string.Empty)
            .Append(".</p>");
        html.Append("<h2>Chosen configuration</h2><p>").Append(Encode(context.Chosen.Trainer)).Append(' ')
            .Append(Encode(string.Join(", ", context.Chosen.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} = {Number(p.Value)}")))).Append("</p>");

        html.Append("<h2>Metrics</h2><table><tr><th>metric</th><th>holdout</th><th>").Append(evaluation.Folds).Append("-fold mean</th><th>std. dev.</th></tr>");
        foreach (var (metric, value) in evaluation.Holdout.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            var cv = evaluation.CrossValidation.GetValueOrDefault(metric);
            html.Append("<tr><td>").Append(Encode(metric)).Append("</td><td>").Append(Number(value)).Append("</td><td>")
                .Append(cv is null ? string.Empty : Number(cv.Mean)).Append("</td><td>").Append(cv is null ? string.Empty : Number(cv.StdDev)).Append("</td></tr>");
        }

        html.Append("</table>");
        if (evaluation.Confusion is { } confusion)
        {
            html.Append("<h2>Confusion matrix (rows: actual, columns: predicted)</h2><table><tr><th></th>");
            foreach (var name in confusion.Classes)
            {
                html.Append("<th>").Append(Encode(name)).Append("</th>");
            }

            html.Append("<th>precision</th><th>recall</th><th>F1</th></tr>");
            var perClass = confusion.PerClass();
            for (var r = 0; r < confusion.Classes.Count; r++)
            {
                html.Append("<tr><th>").Append(Encode(confusion.Classes[r])).Append("</th>");
                foreach (var count in confusion.Counts[r])
                {
                    html.Append("<td>").Append(count.ToString(CultureInfo.InvariantCulture)).Append("</td>");
                }

                var stats = perClass[confusion.Classes[r]];
                html.Append("<td>").Append(Number(stats["precision"])).Append("</td><td>").Append(Number(stats["recall"])).Append("</td><td>").Append(Number(stats["f1"])).Append("</td></tr>");
            }

            html.Append("</table>");
        }

        html.Append("<h2>Permutation feature importance</h2><p>Drop of ").Append(Encode(evaluation.PrimaryMetric))
            .Append(" on the holdout rows when the column's values are shuffled.</p><table><tr><th>column</th><th>decrease</th><th>std. dev.</th></tr>");
        foreach (var item in evaluation.Importance)
        {
            html.Append("<tr><td>").Append(Encode(item.Column)).Append("</td><td>").Append(Number(item.Decrease)).Append("</td><td>").Append(Number(item.StdDev)).Append("</td></tr>");
        }

        html.Append("</table><h2>Sweep</h2><table><tr><th>trial</th><th>trainer</th><th>parameters</th><th>").Append(Encode(evaluation.PrimaryMetric)).Append("</th><th>status</th></tr>");
        foreach (var trial in context.Trials.OrderBy(t => t.Index))
        {
            html.Append("<tr><td>").Append(trial.Index).Append("</td><td>").Append(Encode(trial.Trainer)).Append("</td><td>")
                .Append(Encode(string.Join(", ", trial.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} = {Number(p.Value)}"))))
                .Append("</td><td>").Append(Number(trial.Value)).Append("</td><td>").Append(trial.Stopped ? "stopped early" : "completed").Append("</td></tr>");
        }

        html.Append("</table><h2>Charts</h2>");
        foreach (var (name, png) in charts.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            html.Append("<img alt=\"").Append(Encode(name)).Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(png)).Append("\">");
        }

        return html.Append("</body></html>").ToString();
    }

    /// <summary>The ROC curve: (false positive rate, true positive rate) at each distinct threshold, from (0, 0) to (1, 1).</summary>
    public static (double[] Fpr, double[] Tpr) RocCurve(IReadOnlyList<HoldoutPrediction> predictions)
    {
        var (positives, negatives) = (predictions.Count(p => p.Actual > 0.5), predictions.Count(p => p.Actual <= 0.5));
        List<double> fpr = [0];
        List<double> tpr = [0];
        double tp = 0;
        double fp = 0;
        foreach (var group in predictions.GroupBy(p => p.Probability!.Value).OrderByDescending(g => g.Key))
        {
            tp += group.Count(p => p.Actual > 0.5);
            fp += group.Count(p => p.Actual <= 0.5);
            fpr.Add(negatives == 0 ? 0 : fp / negatives);
            tpr.Add(positives == 0 ? 0 : tp / positives);
        }

        return ([.. fpr], [.. tpr]);
    }

    /// <summary>The precision-recall curve at each distinct threshold, highest threshold first.</summary>
    public static (double[] Recall, double[] Precision) PrecisionRecallCurve(IReadOnlyList<HoldoutPrediction> predictions)
    {
        var positives = predictions.Count(p => p.Actual > 0.5);
        List<double> recall = [];
        List<double> precision = [];
        double tp = 0;
        double predicted = 0;
        foreach (var group in predictions.GroupBy(p => p.Probability!.Value).OrderByDescending(g => g.Key))
        {
            tp += group.Count(p => p.Actual > 0.5);
            predicted += group.Count();
            recall.Add(positives == 0 ? 0 : tp / positives);
            precision.Add(tp / predicted);
        }

        return ([.. recall], [.. precision]);
    }

    /// <summary>Reliability: per probability bin with rows, the mean predicted probability and the observed fraction of positives.</summary>
    public static (double[] Predicted, double[] Observed) Calibration(IReadOnlyList<HoldoutPrediction> predictions, int bins)
    {
        var groups = predictions.GroupBy(p => Math.Min(bins - 1, (int)(p.Probability!.Value * bins))).OrderBy(g => g.Key).ToList();
        return ([.. groups.Select(g => g.Average(p => p.Probability!.Value))], [.. groups.Select(g => g.Average(p => p.Actual))]);
    }

    private static byte[] Line(string title, string x, string y, double[] xs, double[] ys, bool diagonal)
    {
        var plot = new Plot();
        if (diagonal)
        {
            var line = plot.Add.Line(0, 0, 1, 1);
            line.LinePattern = LinePattern.Dashed;
            line.Color = Colors.Gray;
        }

        plot.Add.Scatter(xs, ys);
        plot.Axes.SetLimits(0, 1, 0, 1.02);
        return Render(plot, title, x, y);
    }

    private static byte[] ConfusionChart(ConfusionMatrix confusion)
    {
        var n = confusion.Classes.Count;
        var cells = new double[n, n];
        for (var r = 0; r < n; r++)
        {
            var total = Math.Max(1, confusion.Counts[r].Sum());
            for (var c = 0; c < n; c++)
            {
                // ScottPlot draws data row 0 at the top (y = n - 1), and its Blues map runs dark to light: 1 - share.
                cells[r, c] = 1 - ((double)confusion.Counts[r][c] / total);
            }
        }

        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(cells);
        heatmap.Colormap = new ScottPlot.Colormaps.Blues();
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        for (var r = 0; r < n; r++)
        {
            for (var c = 0; c < n; c++)
            {
                var text = plot.Add.Text(confusion.Counts[r][c].ToString(CultureInfo.InvariantCulture), c, n - 1 - r);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = 14;
                text.LabelFontColor = cells[r, c] < 0.5 ? Colors.White : Colors.Black;
            }
        }

        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, n).Select(i => (double)i)], [.. confusion.Classes]);
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, n).Select(i => (double)(n - 1 - i))], [.. confusion.Classes]);
        return Render(plot, "Confusion matrix (row-normalized)", "Predicted", "Actual");
    }

    private static byte[] Residuals(IReadOnlyList<HoldoutPrediction> predictions)
    {
        var plot = new Plot();
        var scatter = plot.Add.ScatterPoints(predictions.Select(p => p.Predicted).ToArray(), predictions.Select(p => p.Actual - p.Predicted).ToArray());
        scatter.MarkerSize = 4;
        plot.Add.HorizontalLine(0, pattern: LinePattern.Dashed, color: Colors.Gray);
        return Render(plot, "Residuals", "Predicted", "Actual − predicted");
    }

    private static byte[] ImportanceChart(IReadOnlyList<FeatureImportance> importance, string metric)
    {
        var plot = new Plot();
        var top = importance.Take(20).Reverse().ToList();
        var bars = plot.Add.Bars([.. top.Select(i => i.Decrease)]);
        bars.Horizontal = true;
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, top.Count).Select(i => (double)i)], [.. top.Select(i => i.Column)]);
        return Render(plot, "Permutation feature importance", $"Decrease of {metric}", string.Empty);
    }

    private static byte[] TrialsChart(IReadOnlyList<TrialPoint> trials, string metric)
    {
        var plot = new Plot();
        foreach (var trainer in trials.GroupBy(t => t.Trainer, StringComparer.OrdinalIgnoreCase).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var finite = trainer.Where(t => double.IsFinite(t.Value)).ToList();
            var points = plot.Add.ScatterPoints(finite.Select(t => (double)t.Index).ToArray(), finite.Select(t => t.Value).ToArray());
            points.LegendText = trainer.Key;
            points.MarkerSize = 8;
        }

        plot.ShowLegend(Edge.Right);
        return Render(plot, $"Trials against {metric}", "Trial", metric);
    }

    private static byte[] Render(Plot plot, string title, string x, string y)
    {
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    private static string Number(double value) => double.IsFinite(value) ? value.ToString("0.####", CultureInfo.InvariantCulture) : "n/a";

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
