using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Functions.LocalHost.Hosting;

namespace Serverless.Functions.LocalHost.Http;

/// <summary>
/// The keys of the local host and the check of a request against a function's level. A key comes in the
/// <c>x-functions-key</c> header or the <c>code</c> query value, as in Azure. Keys not configured are generated at
/// start and logged once, so a key-protected function is never open by accident.
/// </summary>
internal sealed class FunctionKeys
{
    public const string HeaderName = "x-functions-key";
    public const string QueryName = "code";

    /// <summary>The system key of the Durable extension's HTTP API (it goes into status URLs).</summary>
    public const string DurableTaskExtension = "durabletask_extension";

    /// <summary>The system key of the blob extension's Event Grid webhook.</summary>
    public const string BlobsExtension = "blobs_extension";

    private readonly Dictionary<string, string> _systemKeys;

    public FunctionKeys(IOptions<LocalHostOptions> options, ILogger<FunctionKeys> logger)
    {
        var keys = options.Value.Keys;
        Master = keys.Master is { Length: > 0 } master ? master : Generate(logger, "Master");
        Function = keys.Function is { Length: > 0 } function ? function : Generate(logger, "Function");
        _systemKeys = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [DurableTaskExtension] = keys.DurableTaskExtension is { Length: > 0 } durable ? durable : NewKey(),
            [BlobsExtension] = keys.BlobsExtension is { Length: > 0 } blobs ? blobs : NewKey(),
        };
    }

    public string Master { get; }

    public string Function { get; }

    /// <summary>A system key by extension name.</summary>
    public string SystemKey(string extension) => _systemKeys[extension];

    /// <summary>Whether the request carries the master key or the extension's system key.</summary>
    public bool IsAuthorizedForExtension(HttpRequest request, string extension)
    {
        var presented = Presented(request);
        return !string.IsNullOrEmpty(presented) && (Matches(presented, Master) || Matches(presented, _systemKeys[extension]));
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

    private static string? Presented(HttpRequest request) =>
        request.Headers[HeaderName].FirstOrDefault() ?? request.Query[QueryName].FirstOrDefault();

    private static string NewKey() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    private static bool Matches(string presented, string key) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(key));

    private static string Generate(ILogger logger, string kind)
    {
        var key = NewKey();
        Log.GeneratedKey(logger, kind, key);
        return key;
    }
}
