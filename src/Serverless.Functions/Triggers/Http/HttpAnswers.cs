using System.Net;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Azure.Functions.Worker.Http;
using Serverless.Storage;

namespace Serverless.Functions.Triggers.Http;

/// <summary>
/// An error answer as RFC 9457 problem details (<c>application/problem+json</c>): <c>type</c> (about:blank: the status
/// says it all), <c>title</c> (the status's phrase), <c>status</c>, <c>detail</c> (what to do about it), and the
/// extension member <c>problems</c>, one line per field at fault.
/// </summary>
public sealed record Problem(
    string Type,
    string Title,
    int Status,
    string Detail,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<string>? Problems = null)
{
    /// <summary>The media type of problem details.</summary>
    public const string MediaType = "application/problem+json";

    /// <summary>A problem of <paramref name="status"/>.</summary>
    public static Problem Of(HttpStatusCode status, string detail, IReadOnlyList<string>? problems = null) =>
        new("about:blank", ReasonPhrase(status), (int)status, detail, problems);

    private static string ReasonPhrase(HttpStatusCode status) => status switch
    {
        HttpStatusCode.RequestEntityTooLarge => "Content Too Large",
        HttpStatusCode.UnprocessableEntity => "Unprocessable Content",
        _ => string.Concat(status.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? $" {c}" : $"{c}")),
    };
}

/// <summary>What the HTTP functions share: problem answers, CSV name checks, streaming a body into a blob and a blob back out.</summary>
internal static class HttpAnswers
{
    /// <summary>A relative .csv blob name without path tricks.</summary>
    public static bool IsAcceptedCsvName(string? name) =>
        BlobNameRules.IsSafeBlobName(name) && name!.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);

    /// <summary>A 400 answer when <paramref name="name"/> is not a model name, else null.</summary>
    public static async Task<HttpResponseData?> BadModelNameAsync(HttpRequestData request, string name, CancellationToken cancellationToken) =>
        Serverless.Pipeline.Registry.ModelRegistry.IsValidName(name)
            ? null
            : await ProblemAsync(request, HttpStatusCode.BadRequest, $"'{name}' is not a model name: 1-63 letters, digits, '-' or '_', starting with a letter or digit.", cancellationToken);

    /// <summary>The page size a request asks for (<c>?pageSize=</c>, 1 to <paramref name="max"/>), or <paramref name="fallback"/>.</summary>
    public static int PageSize(HttpRequestData request, int fallback = 20, int max = 100) =>
        int.TryParse(request.Query["pageSize"], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var size)
            ? Math.Clamp(size, 1, max)
            : fallback;

    /// <summary>A 200 answer with <paramref name="body"/> as JSON, and an <c>ETag</c> header when one is given.</summary>
    public static async Task<HttpResponseData> OkAsync<T>(HttpRequestData request, T body, CancellationToken cancellationToken, string? etag = null)
    {
        var response = request.CreateResponse(HttpStatusCode.OK);
        if (etag is not null)
        {
            response.Headers.Add("ETag", etag);
        }

        await response.WriteAsJsonAsync(body, cancellationToken);
        return response;
    }

    /// <summary>The 404 of a model that does not exist.</summary>
    public static Task<HttpResponseData> NoModelAsync(HttpRequestData request, string name, CancellationToken cancellationToken) =>
        ProblemAsync(request, HttpStatusCode.NotFound, $"No model '{name}'; train one with POST /api/models/{name}/train.", cancellationToken);

    /// <summary>
    /// The request's JSON body as <typeparamref name="T"/> (read with the settings the worker's serializer has,
    /// <see cref="Serverless.Pipeline.PipelineJson"/>), or a 400 answer: one line per field it does not know or enum value
    /// it does not take (<see cref="RequestShape"/>), or what the body must look like (<paramref name="shape"/>) when it
    /// is not JSON of that shape or is empty.
    /// </summary>
    public static async Task<(T? Value, HttpResponseData? Problem)> ReadJsonAsync<T>(HttpRequestData request, string shape, CancellationToken cancellationToken)
        where T : class
    {
        string? error;
        try
        {
            using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            if (RequestShape.Problems<T>(body.RootElement) is { Count: > 0 } problems)
            {
                return (null, await ProblemAsync(request, HttpStatusCode.BadRequest, "The request has problems.", cancellationToken, problems));
            }

            var value = body.RootElement.Deserialize<T>(Serverless.Pipeline.PipelineJson.Options);
            if (value is not null)
            {
                return (value, null);
            }

            error = "the body is empty";
        }
        catch (Exception ex) when (JsonError(ex) is { } json)
        {
            error = json.Message;
        }

        return (null, await ProblemAsync(request, HttpStatusCode.BadRequest, $"The body must be {shape}: {error}", cancellationToken));
    }

    private static System.Text.Json.JsonException? JsonError(Exception exception) => exception switch
    {
        System.Text.Json.JsonException json => json,
        AggregateException { InnerExceptions: [System.Text.Json.JsonException json] } => json,
        _ => null,
    };

    /// <summary>The whole of <paramref name="body"/> when it has at most <paramref name="max"/> bytes; null (having read no more than max + 1) when it has more.</summary>
    public static async Task<byte[]?> ReadAtMostAsync(Stream body, int max, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await body.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, max + 1L - buffer.Length)), cancellationToken)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > max)
                {
                    return null;
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }

    /// <summary>A problem details answer (RFC 9457).</summary>
    public static async Task<HttpResponseData> ProblemAsync(HttpRequestData request, HttpStatusCode status, string detail, CancellationToken cancellationToken, IReadOnlyList<string>? problems = null)
    {
        var response = request.CreateResponse(status);
        await response.WriteAsJsonAsync(Problem.Of(status, detail, problems), Problem.MediaType, cancellationToken);
        return response;
    }

    /// <summary>Streams the request body into <paramref name="container"/>/<paramref name="name"/> as CSV; returns the ETag.</summary>
    public static Task<string> PutCsvAsync(HttpRequestData request, BlobContainerClient container, string name, CancellationToken cancellationToken, IDictionary<string, string>? metadata = null) =>
        PutBlobAsync(request, container, name, "text/csv", cancellationToken, metadata);

    /// <summary>Streams the request body into <paramref name="container"/>/<paramref name="name"/>; returns the ETag.</summary>
    public static async Task<string> PutBlobAsync(HttpRequestData request, BlobContainerClient container, string name, string contentType, CancellationToken cancellationToken, IDictionary<string, string>? metadata = null)
    {
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var uploaded = await container.GetBlobClient(name).UploadAsync(
            request.Body,
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType }, Metadata = metadata },
            cancellationToken);
        return uploaded.Value.ETag.ToString().Trim('"');
    }

    /// <summary>A blob as the answer, streamed (its content type kept), or 404 with <paramref name="notFound"/>.</summary>
    public static async Task<HttpResponseData> BlobAsync(HttpRequestData request, BlobClient blob, string notFound, CancellationToken cancellationToken)
    {
        try
        {
            using var content = (await blob.DownloadStreamingAsync(cancellationToken: cancellationToken)).Value;
            var response = request.CreateResponse(HttpStatusCode.OK);
            response.Headers.Add("Content-Type", content.Details.ContentType ?? "application/octet-stream");
            await content.Content.CopyToAsync(response.Body, cancellationToken);
            return response;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return await ProblemAsync(request, HttpStatusCode.NotFound, notFound, cancellationToken);
        }
    }
}
