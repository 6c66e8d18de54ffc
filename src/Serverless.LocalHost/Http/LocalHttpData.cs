using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Serverless.LocalHost.Http;

/// <summary>An <see cref="HttpRequestData"/> over a Kestrel request.</summary>
internal sealed class LocalHttpRequestData(FunctionContext functionContext, HttpContext httpContext) : HttpRequestData(functionContext)
{
    private HttpHeadersCollection? _headers;

    public override Stream Body => httpContext.Request.Body;

    public override HttpHeadersCollection Headers => _headers ??= new HttpHeadersCollection(
        httpContext.Request.Headers.Select(h => new KeyValuePair<string, IEnumerable<string>>(h.Key, h.Value.Select(v => v ?? string.Empty))));

    public override IReadOnlyCollection<IHttpCookie> Cookies =>
        [.. httpContext.Request.Cookies.Select(c => new Microsoft.Azure.Functions.Worker.Http.HttpCookie(c.Key, c.Value))];

    public override Uri Url => new(httpContext.Request.GetDisplayUrl());

    public override IEnumerable<ClaimsIdentity> Identities => httpContext.User.Identities;

    public override string Method => httpContext.Request.Method;

    public override HttpResponseData CreateResponse() => new LocalHttpResponseData(FunctionContext);
}

/// <summary>A buffered <see cref="HttpResponseData"/>, copied to Kestrel once the function returns.</summary>
internal sealed class LocalHttpResponseData(FunctionContext functionContext) : HttpResponseData(functionContext)
{
    private readonly LocalHttpCookies _cookies = new();

    public override HttpStatusCode StatusCode { get; set; } = HttpStatusCode.OK;

    public override HttpHeadersCollection Headers { get; set; } = [];

    public override Stream Body { get; set; } = new MemoryStream();

    public override HttpCookies Cookies => _cookies;

    public async Task CopyToAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        response.StatusCode = (int)StatusCode;
        foreach (var header in Headers)
        {
            response.Headers[header.Key] = header.Value.ToArray();
        }

        foreach (var cookie in _cookies.All)
        {
            response.Cookies.Append(cookie.Name, cookie.Value, new CookieOptions
            {
                Domain = cookie.Domain,
                Expires = cookie.Expires,
                HttpOnly = cookie.HttpOnly ?? false,
                MaxAge = cookie.MaxAge is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
                Path = cookie.Path,
                Secure = cookie.Secure ?? false,
                SameSite = cookie.SameSite switch
                {
                    SameSite.Lax => SameSiteMode.Lax,
                    SameSite.Strict => SameSiteMode.Strict,
                    SameSite.ExplicitNone => SameSiteMode.None,
                    _ => SameSiteMode.Unspecified,
                },
            });
        }

        if (Body.CanSeek)
        {
            Body.Position = 0;
        }

        await Body.CopyToAsync(response.Body, cancellationToken);
    }

    private sealed class LocalHttpCookies : HttpCookies
    {
        public List<IHttpCookie> All { get; } = [];

        public override void Append(string name, string value) => All.Add(new Microsoft.Azure.Functions.Worker.Http.HttpCookie(name, value));

        public override void Append(IHttpCookie cookie) => All.Add(cookie);

        public override IHttpCookie CreateNew() => new Microsoft.Azure.Functions.Worker.Http.HttpCookie(string.Empty, string.Empty);
    }
}
