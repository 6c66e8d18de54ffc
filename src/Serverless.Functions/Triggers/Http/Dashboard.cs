using System.Collections.Frozen;
using System.Net;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Serverless.Functions.Triggers.Http;

/// <summary>
/// <c>GET /api/ui</c>: the dashboard, files embedded in the app's assembly (<c>Dashboard/</c>), so it needs no build
/// step and no other host. The page holds no data: it asks for the function key and calls the keyed API with it,
/// so serving its files needs none.
/// </summary>
public sealed class Dashboard
{
    private const string ResourcePrefix = "dashboard/";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
    }.ToFrozenDictionary();

    private static readonly Lazy<FrozenDictionary<string, byte[]>> Files = new(() =>
    {
        var assembly = typeof(Dashboard).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .ToFrozenDictionary(n => n[ResourcePrefix.Length..].Replace('\\', '/'), n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                return copy.ToArray();
            });
    });

    /// <summary>A file of the dashboard; <c>index.html</c> for the folder itself.</summary>
    [Function(nameof(Dashboard))]
    public static async Task<HttpResponseData> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "ui/{*path}")] HttpRequestData request,
        string? path,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(path) && !request.Url.AbsolutePath.EndsWith('/'))
        {
            // Relative links in the page (app.js, vendor/...) resolve against the folder.
            var redirect = request.CreateResponse(HttpStatusCode.MovedPermanently);
            redirect.Headers.Add("Location", $"{request.Url.AbsolutePath}/");
            return redirect;
        }

        var file = string.IsNullOrEmpty(path) ? "index.html" : path;
        if (!Files.Value.TryGetValue(file, out var content) || !ContentTypes.TryGetValue(Path.GetExtension(file), out var contentType))
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.NotFound, $"The dashboard has no file '{file}'; open /api/ui/.", cancellationToken);
        }

        var response = request.CreateResponse(HttpStatusCode.OK);
        response.Headers.Add("Content-Type", contentType);
        response.Headers.Add("X-Content-Type-Options", "nosniff");
        response.Headers.Add("Referrer-Policy", "no-referrer");
        response.Headers.Add(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'");
        await response.WriteBytesAsync(content, cancellationToken);
        return response;
    }
}
