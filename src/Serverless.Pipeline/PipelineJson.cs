using System.Text.Json;
using System.Text.Json.Serialization;

namespace Serverless.Pipeline;

/// <summary>
/// The JSON settings of everything the pipeline stores or returns: web defaults (camelCase), and metrics that are not
/// finite (a log-loss of infinity on a batch the model gets confidently wrong, an AUC of NaN on one class) written as
/// "Infinity" or "NaN" rather than failing the write.
/// </summary>
public static class PipelineJson
{
    /// <summary>Compact, for table properties and messages.</summary>
    public static readonly JsonSerializerOptions Options = Create(indented: false);

    /// <summary>Indented, for files people read (profiles, summaries, reports).</summary>
    public static readonly JsonSerializerOptions Indented = Create(indented: true);

    /// <summary>Applies the settings to options built elsewhere (the Functions worker's serializer).</summary>
    public static void Apply(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.PropertyNameCaseInsensitive = true;
        options.NumberHandling |= JsonNumberHandling.AllowNamedFloatingPointLiterals;
    }

    private static JsonSerializerOptions Create(bool indented)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = indented };
        Apply(options);
        return options;
    }
}
