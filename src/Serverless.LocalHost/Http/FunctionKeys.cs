using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.LocalHost.Hosting;
using Serverless.Storage;

namespace Serverless.LocalHost.Http;

/// <summary>
/// The keys of the local host and the check of a request against a function's level. A key comes in the
/// <c>x-functions-key</c> header or the <c>code</c> query value, as in Azure. A key set in settings wins; the others are
/// kept where the Functions host keeps them, <c>azure-webjobs-secrets/{hostId}/host.json</c>, generated on the first
/// start, so keys (and the status URLs that carry one) stay valid across restarts and are shared by every host.
/// </summary>
internal sealed class FunctionKeys(StorageClientFactory clients, HostStorage host, IOptions<LocalHostOptions> options, ILogger<FunctionKeys> logger)
{
    public const string HeaderName = "x-functions-key";
    public const string QueryName = "code";
    public const string SecretsContainer = "azure-webjobs-secrets";

    /// <summary>The system key of the Durable extension's HTTP API (it goes into status URLs).</summary>
    public const string DurableTaskExtension = "durabletask_extension";

    /// <summary>The system key of the blob extension's Event Grid webhook.</summary>
    public const string BlobsExtension = "blobs_extension";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly SemaphoreSlim _loading = new(1, 1);
    private Keys? _keys;

    public string Master => Loaded.Master;

    public string Function => Loaded.Function;

    private Keys Loaded => _keys ?? throw new InvalidOperationException("The keys are read at start; call LoadAsync first.");

    /// <summary>A system key by extension name.</summary>
    public string SystemKey(string extension) => extension switch
    {
        DurableTaskExtension => Loaded.DurableTask,
        BlobsExtension => Loaded.Blobs,
        _ => throw new ArgumentOutOfRangeException(nameof(extension), extension, "Not an extension with a system key."),
    };

    /// <summary>Reads the keys (settings first, then storage), generating and storing the missing ones once.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (_keys is not null)
            {
                return;
            }

            var set = options.Value.Keys;
            if (new[] { set.Master, set.Function, set.DurableTaskExtension, set.BlobsExtension }.All(k => k is { Length: > 0 }))
            {
                _keys = new Keys(set.Master!, set.Function!, set.DurableTaskExtension!, set.BlobsExtension!);
                Log.KeysLoaded(logger, "settings", _keys.Function);
                return;
            }

            var container = await HostStorage.CreateAsync(clients, SecretsContainer);
            var blob = container.GetBlobClient($"{host.HostId}/host.json");
            var stored = await ReadAsync(blob, cancellationToken) ?? await CreateAsync(blob, cancellationToken);
            _keys = new Keys(
                Pick(set.Master, stored.MasterKey.Value),
                Pick(set.Function, stored.FunctionKeys.First(k => k.Name == "default").Value),
                Pick(set.DurableTaskExtension, stored.SystemKey(DurableTaskExtension)),
                Pick(set.BlobsExtension, stored.SystemKey(BlobsExtension)));
            Log.KeysLoaded(logger, set.Function is { Length: > 0 } ? "settings" : $"{SecretsContainer}/{host.HostId}/host.json", _keys.Function);
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>Whether the request carries the master key or the extension's system key.</summary>
    public bool IsAuthorizedForExtension(HttpRequest request, string extension)
    {
        var presented = Presented(request);
        return !string.IsNullOrEmpty(presented) && (Matches(presented, Master) || Matches(presented, SystemKey(extension)));
    }

    /// <summary>Whether the request carries a key that opens <paramref name="level"/>.</summary>
    public bool IsAuthorized(HttpRequest request, AuthorizationLevel level)
    {
        if (level == AuthorizationLevel.Anonymous)
        {
            return true;
        }

        var presented = Presented(request);
        if (string.IsNullOrEmpty(presented))
        {
            return false;
        }

        return Matches(presented, Master)
            || (level is AuthorizationLevel.Function or AuthorizationLevel.User && Matches(presented, Function));
    }

    private static string Pick(string? configured, string stored) => configured is { Length: > 0 } ? configured : stored;

    /// <summary>
    /// The key a request presents: the <c>x-functions-key</c> header or the <c>code</c> query value, as the Functions
    /// host reads them, or (on this host only, for MLflow clients, which send <c>MLFLOW_TRACKING_TOKEN</c> so) an
    /// <c>Authorization: Bearer</c> token.
    /// </summary>
    private static string? Presented(HttpRequest request) =>
        request.Headers[HeaderName].FirstOrDefault() ?? request.Query[QueryName].FirstOrDefault() ?? Bearer(request);

    private static string? Bearer(HttpRequest request) =>
        request.Headers.Authorization.FirstOrDefault() is { } value && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? value["Bearer ".Length..].Trim()
            : null;

    private static string NewKey() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    private static bool Matches(string presented, string key) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(key));

    private static async Task<HostSecrets?> ReadAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            var content = (await blob.DownloadContentAsync(cancellationToken)).Value.Content;
            return content.ToObjectFromJson<HostSecrets>(Json) is { MasterKey: not null, FunctionKeys: not null } secrets
                ? secrets
                : throw new InvalidOperationException(
                    $"{blob.BlobContainerName}/{blob.Name} is not a host secrets file; delete it to have new keys generated.");
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary>New keys, written only if no other host wrote them first (then its keys are read).</summary>
    private async Task<HostSecrets> CreateAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        var secrets = new HostSecrets(
            new HostKey("master", NewKey()),
            [new HostKey("default", NewKey())],
            [new HostKey(DurableTaskExtension, NewKey()), new HostKey(BlobsExtension, NewKey())]);
        try
        {
            await blob.UploadAsync(
                BinaryData.FromObjectAsJson(secrets, Json),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } },
                cancellationToken);
            Log.KeysGenerated(logger, $"{blob.BlobContainerName}/{blob.Name}");
            return secrets;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return await ReadAsync(blob, cancellationToken) ?? throw new InvalidOperationException(
                $"{blob.Name} was written and deleted again while this host started.", ex);
        }
    }

    private sealed record Keys(string Master, string Function, string DurableTask, string Blobs);

    /// <summary>The Functions host's secrets file, the fields this host reads and writes.</summary>
    private sealed record HostSecrets(HostKey MasterKey, IReadOnlyList<HostKey> FunctionKeys, IReadOnlyList<HostKey> SystemKeys)
    {
        [JsonPropertyName("source")]
        public string Source { get; init; } = "runtime";

        public string SystemKey(string name) => SystemKeys.FirstOrDefault(k => k.Name == name)?.Value
            ?? throw new InvalidOperationException($"The host secrets have no '{name}' system key; delete the file to have new keys generated.");
    }

    private sealed record HostKey(string Name, string Value)
    {
        public bool Encrypted { get; init; }
    }
}
