using System.Collections.Specialized;
using System.Security.Claims;
using System.Web;

namespace Microsoft.Azure.Functions.Worker.Http;

/// <summary>An HTTP request to a function.</summary>
public abstract class HttpRequestData
{
    private NameValueCollection? _query;

    /// <summary>Creates the request for a function context.</summary>
    public HttpRequestData(FunctionContext functionContext)
    {
        ArgumentNullException.ThrowIfNull(functionContext);
        FunctionContext = functionContext;
    }

    /// <summary>The request body.</summary>
    public abstract Stream Body { get; }

    /// <summary>The request headers.</summary>
    public abstract HttpHeadersCollection Headers { get; }

    /// <summary>The request cookies.</summary>
    public abstract IReadOnlyCollection<IHttpCookie> Cookies { get; }

    /// <summary>The request URL.</summary>
    public abstract Uri Url { get; }

    /// <summary>The identities of the caller.</summary>
    public abstract IEnumerable<ClaimsIdentity> Identities { get; }

    /// <summary>The HTTP method.</summary>
    public abstract string Method { get; }

    /// <summary>The function context of the request.</summary>
    public FunctionContext FunctionContext { get; }

    /// <summary>The query string, parsed.</summary>
    public virtual NameValueCollection Query => _query ??= HttpUtility.ParseQueryString(Url.Query);

    /// <summary>Creates a response for this request.</summary>
    public abstract HttpResponseData CreateResponse();
}

/// <summary>An HTTP response from a function.</summary>
public abstract class HttpResponseData
{
    /// <summary>Creates the response for a function context.</summary>
    public HttpResponseData(FunctionContext functionContext)
    {
        ArgumentNullException.ThrowIfNull(functionContext);
        FunctionContext = functionContext;
    }

    /// <summary>The status code.</summary>
    public abstract System.Net.HttpStatusCode StatusCode { get; set; }

    /// <summary>The response headers.</summary>
    public abstract HttpHeadersCollection Headers { get; set; }

    /// <summary>The response body.</summary>
    public abstract Stream Body { get; set; }

    /// <summary>The response cookies.</summary>
    public abstract HttpCookies Cookies { get; }

    /// <summary>The function context of the response.</summary>
    public FunctionContext FunctionContext { get; }

    /// <summary>Creates a response for the request.</summary>
    public static HttpResponseData CreateResponse(HttpRequestData request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.CreateResponse();
    }
}

/// <summary>A collection of HTTP headers.</summary>
public sealed class HttpHeadersCollection : System.Net.Http.Headers.HttpHeaders
{
    /// <summary>An empty collection.</summary>
    public HttpHeadersCollection()
    {
    }

    /// <summary>A collection of headers with several values each.</summary>
    public HttpHeadersCollection(IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        foreach (var header in headers)
        {
            TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    /// <summary>A collection of single-valued headers.</summary>
    public HttpHeadersCollection(IEnumerable<KeyValuePair<string, string>> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        foreach (var header in headers)
        {
            TryAddWithoutValidation(header.Key, header.Value);
        }
    }
}

/// <summary>Adds cookies to a response.</summary>
public abstract class HttpCookies
{
    /// <summary>Adds a cookie with a name and a value.</summary>
    public abstract void Append(string name, string value);

    /// <summary>Adds a cookie.</summary>
    public abstract void Append(IHttpCookie cookie);

    /// <summary>Creates a cookie for the current environment.</summary>
    public abstract IHttpCookie CreateNew();
}

/// <summary>An HTTP cookie.</summary>
public interface IHttpCookie
{
    /// <summary>The allowed hosts.</summary>
    string? Domain { get; }

    /// <summary>The expiry date.</summary>
    DateTimeOffset? Expires { get; }

    /// <summary>Whether scripts are kept from reading the cookie.</summary>
    bool? HttpOnly { get; }

    /// <summary>Seconds until the cookie expires.</summary>
    double? MaxAge { get; }

    /// <summary>The cookie name.</summary>
    string Name { get; }

    /// <summary>The URL path the cookie is sent for.</summary>
    string? Path { get; }

    /// <summary>The SameSite policy.</summary>
    SameSite SameSite { get; }

    /// <summary>Whether the cookie needs HTTPS.</summary>
    bool? Secure { get; }

    /// <summary>The cookie value.</summary>
    string Value { get; }
}

/// <summary>The SameSite attribute of a cookie.</summary>
public enum SameSite
{
    /// <summary>Not set.</summary>
    None = 0,

    /// <summary>Lax.</summary>
    Lax = 1,

    /// <summary>Strict.</summary>
    Strict = 2,

    /// <summary>Explicitly none.</summary>
    ExplicitNone = 3,
}

/// <summary>An HTTP cookie with settable attributes.</summary>
public class HttpCookie(string name, string value) : IHttpCookie
{
    /// <inheritdoc />
    public string? Domain { get; set; }

    /// <inheritdoc />
    public DateTimeOffset? Expires { get; set; }

    /// <inheritdoc />
    public bool? HttpOnly { get; set; }

    /// <inheritdoc />
    public double? MaxAge { get; set; }

    /// <inheritdoc />
    public string Name { get; set; } = name;

    /// <inheritdoc />
    public string? Path { get; set; }

    /// <inheritdoc />
    public SameSite SameSite { get; set; }

    /// <inheritdoc />
    public bool? Secure { get; set; }

    /// <inheritdoc />
    public string Value { get; set; } = value;
}
