using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Hosting;

/// <summary>Settings of the pipeline, section <c>Pipeline</c> (<c>Pipeline__ScoringOutputContainer</c> in app settings).</summary>
public sealed class PipelineOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Pipeline";

    /// <summary>The container the blob trigger watches; fixed in the trigger path, so it is a constant, not a setting.</summary>
    public const string ScoringInputContainer = "score-in";

    /// <summary>Where scoring results go: <c>{container}/{input name}/summary.json</c> and the result files.</summary>
    [Required]
    [RegularExpression("^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$", ErrorMessage = "Pipeline:ScoringOutputContainer must be a valid container name.")]
    public string ScoringOutputContainer { get; set; } = "score-out";
}

/// <summary>Telemetry settings, section <c>Telemetry</c>.</summary>
public sealed class TelemetryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Telemetry";

    /// <summary>
    /// Where traces go: <c>none</c>, <c>console</c>, <c>otlp</c> (OTEL_EXPORTER_OTLP_* settings) or <c>azuremonitor</c>.
    /// Unset means <c>azuremonitor</c> when APPLICATIONINSIGHTS_CONNECTION_STRING is set, else <c>none</c>.
    /// </summary>
    [RegularExpression("^(none|console|otlp|azuremonitor)$", ErrorMessage = "Telemetry:Exporter must be one of none, console, otlp, azuremonitor.")]
    public string? Exporter { get; set; }
}
