using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Registry;

/// <summary>Where a model version is in its life.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ModelVersionStatus>))]
public enum ModelVersionStatus
{
    /// <summary>Registered; the artifact is being uploaded.</summary>
    Pending,

    /// <summary>The artifact is stored and checked; the version can serve.</summary>
    Ready,

    /// <summary>The upload failed; the version cannot serve.</summary>
    Failed,
}

/// <summary>What registering a model version needs.</summary>
public sealed record ModelRegistration(
    string Name,
    string RunId,
    string Trainer,
    IReadOnlyDictionary<string, double> Parameters,
    IReadOnlyDictionary<string, double> Metrics,
    ModelSignature Signature,
    FeaturizationPlan Plan,
    string DatasetSnapshotId,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Tags = null);

/// <summary>One version of a model, with the featurization plan the scorer needs to read inputs as training did.</summary>
public sealed record ModelVersion(
    string Name,
    int Version,
    ModelVersionStatus Status,
    string RunId,
    string Trainer,
    IReadOnlyDictionary<string, double> Parameters,
    IReadOnlyDictionary<string, double> Metrics,
    ModelSignature Signature,
    FeaturizationPlan Plan,
    string DatasetSnapshotId,
    string? ArtifactUri,
    string? ArtifactSha256,
    string? Error,
    DateTimeOffset CreatedAt,
    IReadOnlyDictionary<string, string>? Tags = null);

/// <summary>
/// A model: its name, description, tags, aliases (alias → version) and latest version number; <see cref="ETag"/> is
/// the version of this row, for changes that must not overwrite another's (<c>If-Match</c>).
/// </summary>
public sealed record RegisteredModel(
    string Name,
    string? Description,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyDictionary<string, int> Aliases,
    int LatestVersion,
    DateTimeOffset UpdatedAt,
    string? ETag = null,
    DateTimeOffset? CreatedAt = null);

/// <summary>An alias moved since the caller looked, or a version does not exist.</summary>
public sealed class ModelRegistryConflictException(string message) : InvalidOperationException(message)
{
}

/// <summary>The model changed since the caller read it: its ETag is not the one the caller gave.</summary>
public sealed class ModelRegistryPreconditionException(string message) : InvalidOperationException(message)
{
}

/// <summary>
/// The model registry: metadata in Azure Tables (<c>models</c>: one row per model; <c>modelversions</c>: one row per
/// version, and one per training run for idempotence), artifacts in Blob Storage (<c>{name}/{version}/model.zip</c>).
/// Version numbers come from an ETag-checked counter, so concurrent registrations never share one; the version row and
/// its run row are inserted in one batch, so the same run registered twice gives one version.
/// </summary>
public sealed partial class ModelRegistry(TableServiceClient tables, BlobContainerClient artifacts, TimeProvider time)
{
    private const string ModelPartition = "model";
    private static readonly JsonSerializerOptions Json = PipelineJson.Options;
    private readonly TableClient _models = tables.GetTableClient("models");
    private readonly TableClient _versions = tables.GetTableClient("modelversions");

    /// <summary>Creates the tables and the container if missing.</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        await _models.CreateIfNotExistsAsync(cancellationToken);
        await _versions.CreateIfNotExistsAsync(cancellationToken);
        await artifacts.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Registers a version (PENDING), uploads the artifact with its SHA-256, and marks it READY (or FAILED, with the
    /// error). A run registered before returns its existing version and uploads nothing; a run whose registration
    /// stopped half-way (killed after taking its number or writing its pending row) gets that number and is finished.
    /// </summary>
    public async Task<ModelVersion> RegisterAsync(ModelRegistration registration, Stream artifact, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(artifact);
        ValidateName(registration.Name);
        var version = await GetByRunAsync(registration.Name, registration.RunId, cancellationToken);
        if (version is { Status: not ModelVersionStatus.Pending })
        {
            return version;
        }

        // A pending version of this run is one whose registration stopped before its artifact was written: finish it.
        version ??= await AddPendingAsync(registration, cancellationToken);
        if (version.Status != ModelVersionStatus.Pending)
        {
            return version;
        }

        var number = version.Version;
        var blob = artifacts.GetBlobClient($"{registration.Name}/{number}/model.zip");
        try
        {
            // A model is megabytes: read whole, it goes up in one Put Blob, which a killed process cannot leave half
            // done. A stream of unknown length went up as staged blocks, and a registration killed between staging
            // and committing failed when it ran again (InvalidBlockList on Azurite).
            using var buffer = new MemoryStream();
            await artifact.CopyToAsync(buffer, cancellationToken);
            var sha256 = Convert.ToHexStringLower(SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
            buffer.Position = 0;
            await blob.UploadAsync(buffer, overwrite: true, cancellationToken);
            version = version with { Status = ModelVersionStatus.Ready, ArtifactUri = blob.Uri.ToString(), ArtifactSha256 = sha256 };
        }
        catch (RequestFailedException ex)
        {
            version = version with { Status = ModelVersionStatus.Failed, Error = $"Artifact upload failed: {ex.Message}" };
        }

        await _versions.UpdateEntityAsync(ToEntity(version), ETag.All, TableUpdateMode.Replace, cancellationToken);
        return version;
    }

    /// <summary>The version row of a new registration, pending its artifact (or the version another registration of the run wrote).</summary>
    private async Task<ModelVersion> AddPendingAsync(ModelRegistration registration, CancellationToken cancellationToken)
    {
        var number = await NextVersionAsync(registration, cancellationToken);
        var version = new ModelVersion(registration.Name, number, ModelVersionStatus.Pending, registration.RunId, registration.Trainer, registration.Parameters, registration.Metrics, registration.Signature, registration.Plan, registration.DatasetSnapshotId, null, null, null, time.GetUtcNow());
        try
        {
            await _versions.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.Add, ToEntity(version)),
                new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(registration.Name, RunKey(registration.RunId)) { ["Version"] = number }),
            ], cancellationToken);
            return version;
        }
        catch (TableTransactionFailedException)
        {
            // Another registration of the same run got there first: its version is the one.
            return await GetByRunAsync(registration.Name, registration.RunId, cancellationToken)
                ?? throw new ModelRegistryConflictException($"Model '{registration.Name}': version {number} could not be written and run '{registration.RunId}' has no version.");
        }
    }

    /// <summary>
    /// Downloads a READY version's artifact and checks it against the SHA-256 recorded at registration; a changed or
    /// missing artifact throws <see cref="ModelRegistryConflictException"/> rather than serving a model nobody registered.
    /// </summary>
    public async Task<byte[]> DownloadArtifactAsync(ModelVersion version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.Status != ModelVersionStatus.Ready)
        {
            throw new ModelRegistryConflictException($"Model '{version.Name}' version {version.Version} is {version.Status}; only READY versions serve.");
        }

        byte[] bytes;
        try
        {
            bytes = (await artifacts.GetBlobClient($"{version.Name}/{version.Version}/model.zip").DownloadContentAsync(cancellationToken)).Value.Content.ToArray();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new ModelRegistryConflictException($"Model '{version.Name}' version {version.Version}: the artifact is missing.");
        }

        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        return sha == version.ArtifactSha256
            ? bytes
            : throw new ModelRegistryConflictException($"Model '{version.Name}' version {version.Version}: the artifact's SHA-256 is {sha}, not the registered {version.ArtifactSha256}; it was changed after registration.");
    }

    /// <summary>A version, or null.</summary>
    public async Task<ModelVersion?> GetVersionAsync(string name, int version, CancellationToken cancellationToken)
    {
        var row = await _versions.GetEntityIfExistsAsync<TableEntity>(name, VersionKey(version), cancellationToken: cancellationToken);
        return row.HasValue ? FromEntity(row.Value!) : null;
    }

    /// <summary>The version an alias points at (for example <c>champion</c>), or null.</summary>
    public async Task<ModelVersion?> GetByAliasAsync(string name, string alias, CancellationToken cancellationToken)
    {
        var model = await GetModelAsync(name, cancellationToken);
        return model is not null && model.Aliases.TryGetValue(alias, out var version) ? await GetVersionAsync(name, version, cancellationToken) : null;
    }

    /// <summary>A model, or null.</summary>
    public async Task<RegisteredModel?> GetModelAsync(string name, CancellationToken cancellationToken)
    {
        var row = await _models.GetEntityIfExistsAsync<TableEntity>(ModelPartition, name, cancellationToken: cancellationToken);
        return row.HasValue ? ToModel(row.Value!) : null;
    }

    /// <summary>Versions of a model, newest first, a page at a time.</summary>
    public async Task<(IReadOnlyList<ModelVersion> Versions, string? ContinuationToken)> ListVersionsAsync(string name, int pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        var query = _versions.QueryAsync<TableEntity>(e => e.PartitionKey == name && e.RowKey.CompareTo("v") >= 0 && e.RowKey.CompareTo("w") < 0, pageSize, cancellationToken: cancellationToken);
        await foreach (var page in query.AsPages(continuationToken, pageSize))
        {
            return ([.. page.Values.Select(FromEntity)], page.ContinuationToken);
        }

        return ([], null);
    }

    /// <summary>Models whose name starts with <paramref name="prefix"/> and that carry <paramref name="tag"/> (key=value), a page at a time.</summary>
    public async Task<(IReadOnlyList<RegisteredModel> Models, string? ContinuationToken)> ListModelsAsync(string? prefix, KeyValuePair<string, string>? tag, int pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {ModelPartition}");
        if (!string.IsNullOrEmpty(prefix))
        {
            filter += " and " + TableClient.CreateQueryFilter($"RowKey ge {prefix} and RowKey lt {prefix + '\uffff'}");
        }

        var models = new List<RegisteredModel>();
        var token = continuationToken;
        await foreach (var page in _models.QueryAsync<TableEntity>(filter, pageSize, cancellationToken: cancellationToken).AsPages(token, pageSize))
        {
            models.AddRange(page.Values.Select(ToModel).Where(m => tag is not { } t || (m.Tags.TryGetValue(t.Key, out var value) && value == t.Value)));
            return (models, page.ContinuationToken);
        }

        return (models, null);
    }

    private async Task<ModelVersion?> GetByRunAsync(string name, string runId, CancellationToken cancellationToken)
    {
        var run = await _versions.GetEntityIfExistsAsync<TableEntity>(name, RunKey(runId), cancellationToken: cancellationToken);
        return run.HasValue ? await GetVersionAsync(name, run.Value!.GetInt32("Version")!.Value, cancellationToken) : null;
    }

    /// <summary>
    /// Takes the next version number: read the model row, add one, write it back only if nobody else did. The row keeps
    /// the run that took the number, so a registration that crashed after taking it (before its version row was
    /// written) gets the same number when it runs again, and versions have no gaps.
    /// </summary>
    private async Task<int> NextVersionAsync(ModelRegistration registration, CancellationToken cancellationToken)
    {
        while (true)
        {
            var existing = await _models.GetEntityIfExistsAsync<TableEntity>(ModelPartition, registration.Name, cancellationToken: cancellationToken);
            try
            {
                if (!existing.HasValue)
                {
                    await _models.AddEntityAsync(new TableEntity(ModelPartition, registration.Name)
                    {
                        ["Description"] = registration.Description,
                        ["Tags"] = JsonSerializer.Serialize(registration.Tags ?? new Dictionary<string, string>(), Json),
                        ["Aliases"] = "{}",
                        ["LatestVersion"] = 1,
                        ["LatestRunId"] = registration.RunId,
                        ["UpdatedAt"] = time.GetUtcNow(),
                        ["CreatedAt"] = time.GetUtcNow(),
                    }, cancellationToken);
                    return 1;
                }

                var row = existing.Value!;
                if (row.GetString("LatestRunId") == registration.RunId && row.GetInt32("LatestVersion") is { } taken)
                {
                    return taken;
                }

                var next = (row.GetInt32("LatestVersion") ?? 0) + 1;
                row["LatestVersion"] = next;
                row["LatestRunId"] = registration.RunId;
                row["UpdatedAt"] = time.GetUtcNow();
                if (registration.Description is not null)
                {
                    row["Description"] = registration.Description;
                }

                await _models.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
                return next;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                // Another registration took this number: try the next one.
            }
        }
    }

    private static TableEntity ToEntity(ModelVersion version) => new(version.Name, VersionKey(version.Version))
    {
        ["Version"] = version.Version,
        ["Status"] = version.Status.ToString(),
        ["RunId"] = version.RunId,
        ["Trainer"] = version.Trainer,
        ["Parameters"] = JsonSerializer.Serialize(version.Parameters, Json),
        ["Metrics"] = JsonSerializer.Serialize(version.Metrics, Json),
        ["Signature"] = JsonSerializer.Serialize(version.Signature, Json),
        ["Plan"] = JsonSerializer.Serialize(version.Plan, Json),
        ["DatasetSnapshotId"] = version.DatasetSnapshotId,
        ["ArtifactUri"] = version.ArtifactUri,
        ["ArtifactSha256"] = version.ArtifactSha256,
        ["Error"] = version.Error,
        ["CreatedAt"] = version.CreatedAt,
        ["Tags"] = version.Tags is { Count: > 0 } tags ? JsonSerializer.Serialize(tags, Json) : null,
    };

    private static ModelVersion FromEntity(TableEntity row) => new(
        row.PartitionKey,
        row.GetInt32("Version")!.Value,
        Enum.Parse<ModelVersionStatus>(row.GetString("Status")),
        row.GetString("RunId"),
        row.GetString("Trainer"),
        JsonSerializer.Deserialize<Dictionary<string, double>>(row.GetString("Parameters"), Json)!,
        JsonSerializer.Deserialize<Dictionary<string, double>>(row.GetString("Metrics"), Json)!,
        JsonSerializer.Deserialize<ModelSignature>(row.GetString("Signature"), Json)!,
        JsonSerializer.Deserialize<FeaturizationPlan>(row.GetString("Plan"), Json)!,
        row.GetString("DatasetSnapshotId"),
        row.GetString("ArtifactUri"),
        row.GetString("ArtifactSha256"),
        row.GetString("Error"),
        row.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        JsonSerializer.Deserialize<Dictionary<string, string>>(row.GetString("Tags") ?? "{}", Json)!);

    private static RegisteredModel ToModel(TableEntity row) => new(
        row.RowKey,
        row.GetString("Description"),
        JsonSerializer.Deserialize<Dictionary<string, string>>(row.GetString("Tags") ?? "{}", Json)!,
        ReadAliases(row),
        row.GetInt32("LatestVersion") ?? 0,
        row.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MinValue,
        row.ETag.ToString(),
        row.GetDateTimeOffset("CreatedAt"));

    private static Dictionary<string, int> ReadAliases(TableEntity row) =>
        JsonSerializer.Deserialize<Dictionary<string, int>>(row.GetString("Aliases") ?? "{}", Json)!;

    /// <summary>Newest first in key order: the key counts down from a large number.</summary>
    private static string VersionKey(int version) => $"v{int.MaxValue - version:D10}";

    private static string RunKey(string runId) => $"run-{runId}";

    /// <summary>Whether a model name (or alias) is valid: 1-63 letters, digits, '-' or '_', starting with a letter or digit.</summary>
    public static bool IsValidName(string? name) => name is not null && ModelName().IsMatch(name);

    private static void ValidateName(string name)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException($"Model name '{name}' must be 1-63 letters, digits, '-' or '_', starting with a letter or digit.", nameof(name));
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")]
    private static partial Regex ModelName();
}
