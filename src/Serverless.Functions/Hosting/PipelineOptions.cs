using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Hosting;

/// <summary>Settings of the pipeline, section <c>Pipeline</c> (<c>Pipeline__ScoringOutputContainer</c> in app settings).</summary>
public sealed class PipelineOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Pipeline";

    /// <summary>The container the blob trigger watches; fixed in the trigger path, so it is a constant, not a setting.</summary>
    public const string ScoringInputContainer = "score-in";

    /// <summary>Training inputs: <c>POST /api/models/{model}/train</c> names a blob here.</summary>
    public const string DatasetsContainer = "datasets";

    /// <summary>Immutable dataset snapshots (<c>snapshots/{sha256}/</c>).</summary>
    public const string SnapshotsContainer = "snapshots";

    /// <summary>Registered model artifacts (<c>{model}/{version}/model.zip</c>).</summary>
    public const string ModelsContainer = "models";

    /// <summary>Run outputs: trial models, the refitted model, the evaluation report.</summary>
    public const string RunsContainer = "runs";

    /// <summary>Where scoring results go: <c>{container}/{input name}/summary.json</c> and the result files.</summary>
    [Required]
    [RegularExpression("^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$", ErrorMessage = "Pipeline:ScoringOutputContainer must be a valid container name.")]
    public string ScoringOutputContainer { get; set; } = "score-out";

    /// <summary>The alias whose version scores dropped files and online requests by default.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$", ErrorMessage = "Pipeline:ServingAlias must be letters, digits, '-' or '_'.")]
    public string ServingAlias { get; set; } = "champion";

    /// <summary>How many model versions a worker keeps loaded for scoring (least recently used evicted).</summary>
    [Range(1, 64)]
    public int ModelCacheCapacity { get; set; } = 8;

    /// <summary>A dropped file of at least this size is scored in parts over activities (the ScoreBatch orchestration) rather than in the blob trigger.</summary>
    [Range(1L, long.MaxValue)]
    public long FanOutScoringBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>The size of one part when a file is fanned out (between 2 and 256 parts).</summary>
    [Range(1L, long.MaxValue)]
    public long ScoringPartBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>The retrain schedule retrains a serving version older than this many days.</summary>
    [Range(1, 3650)]
    public int RetrainMaxModelAgeDays { get; set; } = 30;

    /// <summary>At most this many retraining runs at once: a schedule slot starts no more while this many run.</summary>
    [Range(1, 64)]
    public int MaxConcurrentRetrains { get; set; } = 2;

    /// <summary>A column's drift is moderate from this PSI on (when the test finds it significant).</summary>
    [Range(0.001, 10)]
    public double DriftPsiModerate { get; set; } = 0.1;

    /// <summary>A column's drift is major from this PSI on (when significant); the retrain schedule acts on major drift.</summary>
    [Range(0.001, 10)]
    public double DriftPsiMajor { get; set; } = 0.25;

    /// <summary>A drift test (KS for numbers, chi-square for categories) is significant under this p-value.</summary>
    [Range(1e-12, 0.5)]
    public double DriftPValue { get; set; } = 0.01;

    /// <summary>The thresholds as the drift detector takes them.</summary>
    public Serverless.Pipeline.Monitoring.DriftThresholds DriftThresholds => new(DriftPsiModerate, DriftPsiMajor, DriftPValue);
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
