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

    public FunctionKeys(IOptions<LocalHostOptions> options, ILogger<FunctionKeys> logger)
    {
        Master = options.Value.Keys.Master is { Length: > 0 } master ? master : Generate(logger, "Master");
        Function = options.Value.Keys.Function is { Length: > 0 } function ? function : Generate(logger, "Function");
    }

    public string Master { get; }

    public string Function { get; }

    /// <summary>Whether the request carries a key that opens <paramref name="level"/>.</summary>
    public bool IsAuthorized(HttpRequest request, AuthorizationLevel level)
    {
        if (level == AuthorizationLevel.Anonymous)
        {
            return true;
        }

        var presented = request.Headers[HeaderName].FirstOrDefault() ?? request.Query[QueryName].FirstOrDefault();
        if (string.IsNullOrEmpty(presented))
        {
            return false;
        }

        return Matches(presented, Master)
            || (level is AuthorizationLevel.Function or AuthorizationLevel.User && Matches(presented, Function));
    }

    private static bool Matches(string presented, string key) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(key));

    private static string Generate(ILogger logger, string kind)
    {
        var key = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        Log.GeneratedKey(logger, kind, key);
        return key;
    }
}
