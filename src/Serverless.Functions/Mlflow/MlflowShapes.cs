using System.Globalization;
using System.Text.Json.Serialization;
using Serverless.Pipeline.Registry;
using Serverless.Pipeline.Tracking;

namespace Serverless.Functions.Mlflow;

// The objects of MLflow's REST API (mlflow.org/docs/latest/rest-api.html), with its field names: snake_case, versions
// as strings, times in milliseconds since 1970. Mapping: experiment = model, run = training run, child run = trial.

/// <summary>A key and a value, as MLflow's tags and params are.</summary>
public sealed record MlflowKeyValue(string Key, string Value);

/// <summary>An alias and the version it points at.</summary>
public sealed record MlflowAlias(string Alias, string Version);

/// <summary>MLflow's <c>RegisteredModel</c>.</summary>
public sealed record MlflowRegisteredModel(
    string Name,
    [property: JsonPropertyName("creation_timestamp")] long CreationTimestamp,
    [property: JsonPropertyName("last_updated_timestamp")] long LastUpdatedTimestamp,
    string? Description,
    [property: JsonPropertyName("latest_versions")] IReadOnlyList<MlflowModelVersion> LatestVersions,
    IReadOnlyList<MlflowKeyValue> Tags,
    IReadOnlyList<MlflowAlias> Aliases)
{
    /// <summary>A model with its newest version as the latest when it is READY (this registry has no stages).</summary>
    public static MlflowRegisteredModel From(RegisteredModel model, ModelVersion? latest, string baseUrl) => new(
        model.Name,
        (model.CreatedAt ?? model.UpdatedAt).ToUnixTimeMilliseconds(),
        model.UpdatedAt.ToUnixTimeMilliseconds(),
        model.Description,
        latest is { Status: ModelVersionStatus.Ready } ? [MlflowModelVersion.From(latest, model, baseUrl)] : [],
        [.. model.Tags.Select(t => new MlflowKeyValue(t.Key, t.Value))],
        [.. model.Aliases.Select(a => new MlflowAlias(a.Key, a.Value.ToString(CultureInfo.InvariantCulture)))]);
}

/// <summary>MLflow's <c>ModelVersion</c>.</summary>
public sealed record MlflowModelVersion(
    string Name,
    string Version,
    [property: JsonPropertyName("creation_timestamp")] long CreationTimestamp,
    [property: JsonPropertyName("last_updated_timestamp")] long LastUpdatedTimestamp,
    [property: JsonPropertyName("current_stage")] string CurrentStage,
    string? Description,
    string Source,
    [property: JsonPropertyName("run_id")] string RunId,
    string Status,
    [property: JsonPropertyName("status_message")] string? StatusMessage,
    IReadOnlyList<MlflowKeyValue> Tags,
    IReadOnlyList<string> Aliases)
{
    /// <summary>A version; its source is the route that serves its artifact.</summary>
    public static MlflowModelVersion From(ModelVersion version, RegisteredModel? model, string baseUrl) => new(
        version.Name,
        version.Version.ToString(CultureInfo.InvariantCulture),
        version.CreatedAt.ToUnixTimeMilliseconds(),
        version.CreatedAt.ToUnixTimeMilliseconds(),
        "None",
        null,
        ArtifactUrl(version, baseUrl),
        version.RunId,
        version.Status switch
        {
            ModelVersionStatus.Ready => "READY",
            ModelVersionStatus.Pending => "PENDING_REGISTRATION",
            _ => "FAILED_REGISTRATION",
        },
        version.Error,
        [.. (version.Tags ?? new Dictionary<string, string>()).Select(t => new MlflowKeyValue(t.Key, t.Value))],
        [.. (model?.Aliases ?? new Dictionary<string, int>()).Where(a => a.Value == version.Version).Select(a => a.Key)]);

    /// <summary>Where a version's <c>model.zip</c> is served.</summary>
    public static string ArtifactUrl(ModelVersion version, string baseUrl) =>
        $"{baseUrl}/api/models/{version.Name}/versions/{version.Version.ToString(CultureInfo.InvariantCulture)}/artifact";
}

/// <summary>MLflow's <c>Experiment</c>: one per model.</summary>
public sealed record MlflowExperiment(
    [property: JsonPropertyName("experiment_id")] string ExperimentId,
    string Name,
    [property: JsonPropertyName("artifact_location")] string ArtifactLocation,
    [property: JsonPropertyName("lifecycle_stage")] string LifecycleStage,
    [property: JsonPropertyName("last_update_time")] long LastUpdateTime,
    [property: JsonPropertyName("creation_time")] long CreationTime,
    IReadOnlyList<MlflowKeyValue> Tags)
{
    /// <summary>The experiment of a model: its id is the model's name.</summary>
    public static MlflowExperiment From(RegisteredModel model, string baseUrl) => new(
        model.Name,
        model.Name,
        $"{baseUrl}/api/models/{model.Name}",
        "active",
        model.UpdatedAt.ToUnixTimeMilliseconds(),
        (model.CreatedAt ?? model.UpdatedAt).ToUnixTimeMilliseconds(),
        [.. model.Tags.Select(t => new MlflowKeyValue(t.Key, t.Value))]);
}

/// <summary>MLflow's <c>Run</c>: its info and data.</summary>
public sealed record MlflowRun(MlflowRunInfo Info, MlflowRunData Data)
{
    /// <summary>A tracked run: a trial carries the tag <c>mlflow.parentRunId</c>, as MLflow's child runs do.</summary>
    public static MlflowRun From(TrackedRun run, string baseUrl)
    {
        var time = (run.EndedAt ?? run.StartedAt).ToUnixTimeMilliseconds();
        var tags = new List<MlflowKeyValue> { new("mlflow.runName", run.RunId) };
        if (run.ParentRunId is { } parent)
        {
            tags.Add(new("mlflow.parentRunId", parent));
        }

        if (run.Trainer is { } trainer)
        {
            tags.Add(new("trainer", trainer));
        }

        if (run.Error is { } error)
        {
            tags.Add(new("error", error));
        }

        return new MlflowRun(
            new MlflowRunInfo(
                run.RunId,
                run.RunId,
                run.RunId,
                run.Experiment,
                RunField.Status(run.Status),
                run.StartedAt.ToUnixTimeMilliseconds(),
                run.EndedAt?.ToUnixTimeMilliseconds(),
                $"{baseUrl}/api/runs/{run.RunId}",
                "active"),
            new MlflowRunData(
                [.. run.Metrics.Select(m => new MlflowMetric(m.Key, m.Value, time, 0))],
                [.. run.Parameters.Select(p => new MlflowKeyValue(p.Key, p.Value.ToString("R", CultureInfo.InvariantCulture)))],
                tags));
    }
}

/// <summary>MLflow's <c>RunInfo</c>.</summary>
public sealed record MlflowRunInfo(
    [property: JsonPropertyName("run_id")] string RunId,
    [property: JsonPropertyName("run_uuid")] string RunUuid,
    [property: JsonPropertyName("run_name")] string RunName,
    [property: JsonPropertyName("experiment_id")] string ExperimentId,
    string Status,
    [property: JsonPropertyName("start_time")] long StartTime,
    [property: JsonPropertyName("end_time")] long? EndTime,
    [property: JsonPropertyName("artifact_uri")] string ArtifactUri,
    [property: JsonPropertyName("lifecycle_stage")] string LifecycleStage);

/// <summary>MLflow's <c>RunData</c>.</summary>
public sealed record MlflowRunData(IReadOnlyList<MlflowMetric> Metrics, IReadOnlyList<MlflowKeyValue> Params, IReadOnlyList<MlflowKeyValue> Tags);

/// <summary>MLflow's <c>Metric</c>.</summary>
public sealed record MlflowMetric(string Key, double Value, long Timestamp, long Step);

/// <summary>MLflow's <c>FileInfo</c> of <c>artifacts/list</c>.</summary>
public sealed record MlflowFileInfo(
    string Path,
    [property: JsonPropertyName("is_dir")] bool IsDir,
    [property: JsonPropertyName("file_size")] long? FileSize);

/// <summary>MLflow's error body: <c>RESOURCE_DOES_NOT_EXIST</c> (404), <c>INVALID_PARAMETER_VALUE</c> (400).</summary>
public sealed record MlflowError(
    [property: JsonPropertyName("error_code")] string ErrorCode,
    string Message);
