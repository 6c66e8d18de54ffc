using System.Text;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Scoring;

/// <summary>
/// The columns a model's predictions have, in files and online: <c>prediction</c> (the class, or the value of a
/// regression), then for classifiers one <c>probability_{class}</c> per class, in the order of the plan's classes.
/// Class names are made safe for CSV headers and code: characters other than letters, digits, '_', '-' and '.' become
/// '_', and a name that collides with an earlier one gets a suffix (_2, _3...).
/// </summary>
public static class PredictionColumns
{
    /// <summary>The column of the predicted class or value.</summary>
    public const string Prediction = "prediction";

    /// <summary>The prefix of a class probability column.</summary>
    public const string ProbabilityPrefix = "probability_";

    /// <summary>The output columns of a task with these classes.</summary>
    public static IReadOnlyList<string> For(MlTask task, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        return task == MlTask.Regression ? [Prediction] : [Prediction, .. Probabilities(ClassesOf(task, classes))];
    }

    /// <summary>The classes a model predicts, in probability-column order: a binary plan without its two classes predicts false/true.</summary>
    public static IReadOnlyList<string> ClassesOf(MlTask task, IReadOnlyList<string> classes) =>
        task == MlTask.BinaryClassification && classes.Count != 2 ? ["false", "true"] : classes;

    /// <summary>The positive class of a binary task (the last of its two classes); null otherwise.</summary>
    public static string? PositiveOf(MlTask task, IReadOnlyList<string> classes) =>
        task == MlTask.BinaryClassification && classes.Count == 2 ? classes[1] : null;

    /// <summary>The probability column of each class, in order.</summary>
    public static IReadOnlyList<string> Probabilities(IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { Prediction };
        var names = new List<string>(classes.Count);
        foreach (var name in classes)
        {
            var safe = ProbabilityPrefix + Safe(name);
            var unique = safe;
            for (var n = 2; !taken.Add(unique); n++)
            {
                unique = $"{safe}_{n}";
            }

            names.Add(unique);
        }

        return names;
    }

    private static string Safe(string name)
    {
        var text = new StringBuilder(name.Length);
        foreach (var c in name.Trim())
        {
            text.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '_');
        }

        return text.Length > 0 ? text.ToString() : "_";
    }
}
