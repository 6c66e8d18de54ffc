using System.Net;
using System.Text;
using Azure.Core.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.Azure.Functions.Worker.Http;

/// <summary>Extension methods of <see cref="HttpRequestData"/>.</summary>
public static class HttpRequestDataExtensions
{
    /// <summary>Reads the body as a string (UTF-8 unless given).</summary>
    public static async Task<string?> ReadAsStringAsync(this HttpRequestData request, Encoding? encoding = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Body is null)
        {
            return null;
        }

        using var reader = new StreamReader(request.Body, encoding ?? Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1024, leaveOpen: true);
        return await reader.ReadToEndAsync();
    }

    /// <summary>Reads the body as a string (UTF-8 unless given).</summary>
    public static string? ReadAsString(this HttpRequestData request, Encoding? encoding = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Body is null)
        {
            return null;
        }

        using var reader = new StreamReader(request.Body, encoding ?? Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1024, leaveOpen: true);
        return reader.ReadToEnd();
    }

    /// <summary>Reads the body as JSON with the worker's serializer.</summary>
    public static ValueTask<T?> ReadFromJsonAsync<T>(this HttpRequestData request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.ReadFromJsonAsync<T>(WorkerSerializer.Get(request.FunctionContext), cancellationToken);
    }

    /// <summary>Reads the body as JSON with the given serializer.</summary>
    public static async ValueTask<T?> ReadFromJsonAsync<T>(this HttpRequestData request, ObjectSerializer serializer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(serializer);
        var value = await serializer.DeserializeAsync(request.Body, typeof(T), cancellationToken);
        return value is null ? default : (T)value;
    }

    /// <summary>Creates a response with the given status code.</summary>
    public static HttpResponseData CreateResponse(this HttpRequestData request, HttpStatusCode statusCode)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = request.CreateResponse();
        response.StatusCode = statusCode;
        return response;
    }
}

/// <summary>Extension methods of <see cref="HttpResponseData"/>.</summary>
public static class HttpResponseDataExtensions
{
    private const string JsonContentType = "application/json; charset=utf-8";

    /// <summary>Writes a string to the body (UTF-8 unless given).</summary>
    public static void WriteString(this HttpResponseData response, string value, Encoding? encoding = null)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(value);
        response.Body.Write((encoding ?? Encoding.UTF8).GetBytes(value));
    }

    /// <summary>Writes a string to the body (UTF-8 unless given).</summary>
    public static Task WriteStringAsync(this HttpResponseData response, string value, Encoding? encoding = null) =>
        response.WriteStringAsync(value, CancellationToken.None, encoding);

    /// <summary>Writes a string to the body (UTF-8 unless given).</summary>
    public static Task WriteStringAsync(this HttpResponseData response, string value, CancellationToken cancellationToken, Encoding? encoding = null)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(value);
        return response.Body.WriteAsync((encoding ?? Encoding.UTF8).GetBytes(value), cancellationToken).AsTask();
    }

    /// <summary>Writes a value as JSON with the worker's serializer; sets Content-Type to application/json.</summary>
    public static ValueTask WriteAsJsonAsync<T>(this HttpResponseData response, T instance, CancellationToken cancellationToken = default) =>
        response.WriteAsJsonAsync(instance, JsonContentType, cancellationToken);

    /// <summary>Writes a value as JSON with the worker's serializer and the given content type.</summary>
    public static ValueTask WriteAsJsonAsync<T>(this HttpResponseData response, T instance, string contentType, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.WriteAsJsonAsync(instance, WorkerSerializer.Get(response.FunctionContext), contentType, cancellationToken);
    }

    /// <summary>Writes a value as JSON with the given serializer.</summary>
    public static ValueTask WriteAsJsonAsync<T>(this HttpResponseData response, T instance, ObjectSerializer serializer, CancellationToken cancellationToken = default) =>
        response.WriteAsJsonAsync(instance, serializer, JsonContentType, cancellationToken);

    /// <summary>Writes a value as JSON with the given serializer and content type.</summary>
    public static ValueTask WriteAsJsonAsync<T>(this HttpResponseData response, T instance, ObjectSerializer serializer, string contentType, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentNullException.ThrowIfNull(contentType);
        response.Headers.Remove("Content-Type");
        response.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return serializer.SerializeAsync(response.Body, instance, typeof(T), cancellationToken);
    }

    /// <summary>Writes bytes to the body.</summary>
    public static void WriteBytes(this HttpResponseData response, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(value);
        response.Body.Write(value);
    }

    /// <summary>Writes bytes to the body.</summary>
    public static Task WriteBytesAsync(this HttpResponseData response, byte[] value) =>
        response.WriteBytesAsync(value, CancellationToken.None);

    /// <summary>Writes bytes to the body.</summary>
    public static Task WriteBytesAsync(this HttpResponseData response, byte[] value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(value);
        return response.Body.WriteAsync(value, cancellationToken).AsTask();
    }
}

internal static class WorkerSerializer
{
    public static ObjectSerializer Get(FunctionContext context) =>
        context.InstanceServices.GetService<IOptions<WorkerOptions>>()?.Value?.Serializer
        ?? throw new InvalidOperationException("A serializer is not configured for the worker.");
}
