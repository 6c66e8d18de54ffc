using System.Text.Json.Serialization;

namespace Serverless.Pipeline.Data;

/// <summary>What a column holds, as inferred from its values or as given.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ColumnKind>))]
public enum ColumnKind
{
    /// <summary>Numbers (invariant culture).</summary>
    Numeric,

    /// <summary>true/false, yes/no, 1/0 written as words.</summary>
    Boolean,

    /// <summary>Few distinct strings.</summary>
    Categorical,

    /// <summary>Free text: many distinct strings.</summary>
    Text,

    /// <summary>Dates and times (ISO 8601 and invariant forms).</summary>
    DateTime,
}

/// <summary>One column of a dataset.</summary>
public sealed record ColumnSchema(string Name, ColumnKind Kind)
{
    /// <summary>
    /// In a model's signature: the column had no missing value in training, so an online request must send it (a
    /// column with missing values in training is imputed when absent).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool Required { get; init; }
}

/// <summary>The columns of a dataset, in file order, and the label column if there is one.</summary>
public sealed record DatasetSchema(IReadOnlyList<ColumnSchema> Columns, string? Label)
{
    /// <summary>The column with this name (case-insensitive), or null.</summary>
    public ColumnSchema? Find(string name) => Columns.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>A dataset cannot be used at all: the message names the file and, where it can, the row and column.</summary>
public sealed class DatasetValidationException(string file, string message, long? row = null, string? column = null)
    : Exception(message)
{
    /// <summary>The file.</summary>
    public string File { get; } = file;

    /// <summary>The row (1-based, header = 1), when one is to blame.</summary>
    public long? Row { get; } = row;

    /// <summary>The column, when one is to blame.</summary>
    public string? Column { get; } = column;
}
