using System.Net;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Serverless.Functions.Triggers.Http;

/// <summary>
/// <c>GET /api/openapi.json</c>: the OpenAPI 3 document of the app's routes, a checked-in file (<c>Api/openapi.json</c>)
/// embedded in the assembly; a test keeps it and the <c>[HttpTrigger]</c> routes the same.
/// </summary>
public sealed class ApiDocument
{
    private static readonly Lazy<byte[]> Document = new(() =>
    {
        using var stream = typeof(ApiDocument).Assembly.GetManifestResourceStream("openapi.json")
            ?? throw new InvalidOperationException("openapi.json is not embedded in the app's assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>The document.</summary>
    [Function(nameof(GetOpenApi))]
    public static async Task<HttpResponseData> GetOpenApi(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "openapi.json")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = request.CreateResponse(HttpStatusCode.OK);
        response.Headers.Add("Content-Type", "application/json; charset=utf-8");
        await response.WriteBytesAsync(Document.Value, cancellationToken);
        return response;
    }
}
