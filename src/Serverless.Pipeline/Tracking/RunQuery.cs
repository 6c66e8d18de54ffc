using System.Globalization;
using System.Text.RegularExpressions;

namespace Serverless.Pipeline.Tracking;

/// <summary>
/// A search of runs as MLflow's <c>runs/search</c> writes one: a filter of clauses joined by <c>and</c>
/// (<c>metrics.auc &gt; 0.8 and params.numberOfLeaves &lt;= 31 and attributes.status = 'FINISHED'</c>), an order
/// (<c>metrics.auc DESC</c>, then the start time, newest first, as MLflow's default), a page size and a page token.
/// </summary>
/// <param name="Filter">The clauses every run must meet.</param>
/// <param name="OrderBy">The sort keys, first first.</param>
/// <param name="PageSize">Runs per page (1-1000).</param>
/// <param name="PageToken">Where the previous page ended, as <see cref="RunTracker.SearchAsync(IReadOnlyList{string}?, RunQuery, CancellationToken)"/> returned it.</param>
/// <param name="ParentRunId">Only the children of this run (the trials of a training run); empty: only runs without a parent.</param>
public sealed partial record RunQuery(
    IReadOnlyList<RunClause> Filter,
    IReadOnlyList<RunOrder> OrderBy,
    int PageSize = 100,
    string? PageToken = null,
    string? ParentRunId = null)
{
    /// <summary>Parses a filter and order as MLflow's REST API and UI take them; throws <see cref="FormatException"/> naming the part at fault.</summary>
    public static RunQuery Parse(string? filter, IEnumerable<string>? orderBy, int pageSize = 100, string? pageToken = null, string? parentRunId = null)
    {
        if (pageSize is < 1 or > 1000)
        {
            throw new FormatException($"max_results must be 1-1000, not {pageSize}.");
        }

        var clauses = string.IsNullOrWhiteSpace(filter)
            ? []
            : AndSeparator().Split(filter.Trim()).Select(RunClause.Parse).ToList();
        var order = (orderBy ?? []).Where(o => !string.IsNullOrWhiteSpace(o)).Select(RunOrder.Parse).ToList();
        return new RunQuery(clauses, order, pageSize, pageToken, parentRunId);
    }

    /// <summary>Whether <paramref name="run"/> meets every clause.</summary>
    public bool Matches(TrackedRun run) =>
        (ParentRunId is null || (ParentRunId.Length == 0 ? run.ParentRunId is null : run.ParentRunId == ParentRunId))
        && Filter.All(c => c.Matches(run));

    /// <summary>The runs in this query's order: its keys, then start time newest first, then run id.</summary>
    public IOrderedEnumerable<TrackedRun> Sort(IEnumerable<TrackedRun> runs)
    {
        var sorted = runs.OrderBy(_ => 0);
        foreach (var key in OrderBy)
        {
            // Runs without the key go last whatever the direction, as MLflow sorts them.
            sorted = sorted.ThenBy(r => key.Value(r) is null ? 1 : 0);
            sorted = key.Descending
                ? sorted.ThenByDescending(key.Value, RunValueComparer.Instance)
                : sorted.ThenBy(key.Value, RunValueComparer.Instance);
        }

        return sorted.ThenByDescending(r => r.StartedAt).ThenBy(r => r.RunId, StringComparer.Ordinal);
    }

    [GeneratedRegex(@"\s+and\s+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AndSeparator();
}

/// <summary>One clause of a run filter: <c>{entity}.{key} {op} {value}</c>.</summary>
public sealed partial record RunClause(RunField Field, string Operator, object Value)
{
    private static readonly string[] NumericOperators = ["=", "!=", ">", ">=", "<", "<="];

    /// <summary>Parses a clause; numbers for metrics and parameters, quoted text for attributes.</summary>
    public static RunClause Parse(string clause)
    {
        var match = ClauseSyntax().Match(clause.Trim());
        if (!match.Success)
        {
            throw new FormatException($"'{clause.Trim()}' is not a clause: write {{metrics|params|attributes}}.{{key}} {{=|!=|>|>=|<|<=}} {{value}}, clauses joined by 'and'.");
        }

        var field = RunField.Parse(match.Groups["field"].Value);
        var op = match.Groups["op"].Value;
        var raw = match.Groups["value"].Value.Trim();
        if (field.Entity is RunEntity.Metric or RunEntity.Parameter or RunEntity.Time)
        {
            if (!NumericOperators.Contains(op) || !double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                throw new FormatException($"'{clause.Trim()}': {field} compares with a number ({string.Join(' ', NumericOperators)}).");
            }

            return new RunClause(field, op, number);
        }

        if (op is not ("=" or "!=") || raw.Length < 2 || raw[0] != raw[^1] || raw[0] is not ('\'' or '"'))
        {
            throw new FormatException($"'{clause.Trim()}': {field} compares with = or != and a quoted value ('...').");
        }

        return new RunClause(field, op, raw[1..^1]);
    }

    /// <summary>Whether the run meets the clause; a run without the metric or parameter does not.</summary>
    public bool Matches(TrackedRun run)
    {
        var actual = Field.Value(run);
        if (actual is null)
        {
            return false;
        }

        var compared = RunValueComparer.Instance.Compare(
            actual,
            Field.Entity == RunEntity.Attribute && Field.Key == "status" ? RunField.Status((string)Value) : Value);
        return Operator switch
        {
            "=" => compared == 0,
            "!=" => compared != 0,
            ">" => compared > 0,
            ">=" => compared >= 0,
            "<" => compared < 0,
            _ => compared <= 0,
        };
    }

    [GeneratedRegex(@"^(?<field>[A-Za-z_]+\.(`[^`]+`|""[^""]+""|[A-Za-z0-9_.\-]+))\s*(?<op>!=|>=|<=|=|>|<)\s*(?<value>.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex ClauseSyntax();
}

/// <summary>A sort key: a field and a direction (<c>metrics.auc DESC</c>).</summary>
public sealed record RunOrder(RunField Field, bool Descending)
{
    /// <summary>The key's value of a run, or null.</summary>
    public object? Value(TrackedRun run) => Field.Value(run);

    /// <summary>Parses <c>{field} [ASC|DESC]</c>.</summary>
    public static RunOrder Parse(string order)
    {
        var parts = order.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var descending = parts.Length == 2 && parts[1].Equals("DESC", StringComparison.OrdinalIgnoreCase);
        if (parts.Length is < 1 or > 2 || (parts.Length == 2 && !descending && !parts[1].Equals("ASC", StringComparison.OrdinalIgnoreCase)))
        {
            throw new FormatException($"'{order}' is not an order: write {{metrics|params|attributes}}.{{key}} [ASC|DESC].");
        }

        return new RunOrder(RunField.Parse(parts[0]), descending);
    }
}

/// <summary>What a field of a run is.</summary>
public enum RunEntity
{
    /// <summary><c>metrics.{name}</c>.</summary>
    Metric,

    /// <summary><c>params.{name}</c>.</summary>
    Parameter,

    /// <summary><c>attributes.status</c>, <c>.trainer</c>, <c>.run_id</c>, <c>.parent_run_id</c>.</summary>
    Attribute,

    /// <summary><c>attributes.start_time</c> or <c>.end_time</c>, in milliseconds since 1970, as MLflow keeps them.</summary>
    Time,
}

/// <summary>A field of a run named as MLflow names it.</summary>
public sealed record RunField(RunEntity Entity, string Key)
{
    private static readonly string[] Attributes = ["status", "trainer", "run_id", "parent_run_id", "run_name"];

    /// <summary>MLflow's run status for ours: RUNNING, FINISHED, FAILED, KILLED (a trial stopped early).</summary>
    public static string Status(RunStatus status) => status switch
    {
        RunStatus.Running => "RUNNING",
        RunStatus.Completed => "FINISHED",
        RunStatus.Failed => "FAILED",
        _ => "KILLED",
    };

    /// <summary>A status named either way (<c>FINISHED</c> or <c>Completed</c>) as MLflow's name.</summary>
    public static string Status(string status) =>
        Enum.TryParse<RunStatus>(status, ignoreCase: true, out var ours) ? Status(ours) : status.ToUpperInvariant();

    /// <summary>Parses <c>metrics.auc</c>, <c>params.`learning rate`</c>, <c>attributes.status</c>...</summary>
    public static RunField Parse(string field)
    {
        var dot = field.IndexOf('.', StringComparison.Ordinal);
        var entity = dot < 0 ? string.Empty : field[..dot].ToLowerInvariant();
        var key = dot < 0 ? string.Empty : field[(dot + 1)..].Trim('`', '"');
        var parsed = entity switch
        {
            "metrics" or "metric" => new RunField(RunEntity.Metric, key),
            "params" or "param" or "parameters" or "parameter" => new RunField(RunEntity.Parameter, key),
            "attributes" or "attribute" or "attr" or "run" => key.ToLowerInvariant() switch
            {
                "start_time" or "end_time" => new RunField(RunEntity.Time, key.ToLowerInvariant()),
                var k when Attributes.Contains(k) => new RunField(RunEntity.Attribute, k),
                _ => null,
            },
            _ => null,
        };
        return parsed is not null && key.Length > 0
            ? parsed
            : throw new FormatException($"'{field}' is not a field: metrics.{{name}}, params.{{name}}, or attributes.{{{string.Join('|', Attributes)}|start_time|end_time}}.");
    }

    /// <summary>This field's value for a run: a number for metrics, parameters and times, text for attributes; null when the run has none.</summary>
    public object? Value(TrackedRun run) => Entity switch
    {
        RunEntity.Metric => run.Metrics.TryGetValue(Key, out var m) ? m : null,
        RunEntity.Parameter => run.Parameters.TryGetValue(Key, out var p) ? p : null,
        RunEntity.Time => Key == "start_time" ? run.StartedAt.ToUnixTimeMilliseconds() : run.EndedAt?.ToUnixTimeMilliseconds(),
        _ => Key switch
        {
            "status" => Status(run.Status),
            "trainer" => run.Trainer,
            "parent_run_id" => run.ParentRunId,
            _ => run.RunId,
        },
    };

    /// <inheritdoc/>
    public override string ToString() => $"{Entity switch { RunEntity.Metric => "metrics", RunEntity.Parameter => "params", _ => "attributes" }}.{Key}";
}

/// <summary>Compares numbers as numbers and text ordinally.</summary>
internal sealed class RunValueComparer : IComparer<object?>
{
    public static readonly RunValueComparer Instance = new();

    public int Compare(object? x, object? y) => (x, y) switch
    {
        (null, null) => 0,
        (null, _) => -1,
        (_, null) => 1,
        (string a, string b) => string.CompareOrdinal(a, b),
        _ => Convert.ToDouble(x, CultureInfo.InvariantCulture).CompareTo(Convert.ToDouble(y, CultureInfo.InvariantCulture)),
    };
}
