using System.Net;
using System.Text.Json;
using Azure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Constraints;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.LocalHost.Blobs;
using Serverless.LocalHost.Hosting;
using Serverless.LocalHost.Invocation;
using Serverless.Storage;

namespace Serverless.LocalHost.Http;

/// <summary>
/// Serves HTTP-triggered functions on Kestrel under the route prefix (<c>api</c>), with ASP.NET Core endpoint routing
/// (route values, constraints, 404 for an unknown route, 405 for a wrong method), keys per authorization level (401),
/// a body limit (413), and the blob extension's Event Grid webhook at <c>/runtime/webhooks/blobs</c>.
/// </summary>
internal sealed class HttpHost(
    FunctionCatalog catalog,
    FunctionInvoker invoker,
    FunctionKeys keys,
    BlobTriggerProcessor blobs,
    BlobScanSignal blobScan,
    LocalHttpEndpoint endpoint,
    IConfiguration configuration,
    IOptions<LocalHostOptions> options,
    IOptions<WorkerOptions> worker,
    IEnumerable<IRuntimeEndpoints> endpoints,
    ILoggerFactory loggerFactory,
    ILogger<HttpHost> logger) : IHostedService, IAsyncDisposable
{
    /// <summary>A body at most this far over the limit is read before the 413, so the client sees the answer.</summary>
    private const long DrainedOverLimit = 1024 * 1024;

    private readonly List<Task> _webhookWork = [];
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await keys.LoadAsync(cancellationToken);
        var settings = options.Value.Http;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<IHostLifetime, HostedLifetime>();

        // The slim builder leaves out the regex route constraint; function routes may use it, as in Azure.
        builder.Services.Configure<RouteOptions>(routing => routing.SetParameterPolicy<RegexInlineRouteConstraint>("regex"));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = settings.MaxRequestBodyBytes;
            kestrel.Listen(IPAddress.Parse(settings.Address), settings.Port);
        });

        var app = builder.Build();
        app.Use(AnswerStorageOutagesAsync);
        var routePrefix = (configuration[$"{LocalConfiguration.HostJsonSection}:extensions:http:routePrefix"] ?? "api").Trim('/');
        var routes = new Dictionary<FunctionDescriptor, string>();
        foreach (var function in catalog.WithTrigger<HttpTriggerAttribute>())
        {
            var trigger = function.TriggerAs<HttpTriggerAttribute>();
            var route = string.Join('/', new[] { routePrefix, trigger.Route ?? function.Name }.Where(s => s.Length > 0));
            routes[function] = route;
            RequestDelegate handler = http => HandleFunctionAsync(http, function);
            var mapped = trigger.Methods is { Length: > 0 } methods
                ? app.MapMethods(route, [.. methods.Select(m => m.ToUpperInvariant())], handler)
                : app.Map(route, handler);
            mapped.WithDisplayName(function.Name);
        }

        app.MapPost("runtime/webhooks/blobs", HandleBlobWebhookAsync);
        foreach (var extension in endpoints)
        {
            extension.Map(app);
        }

        await app.StartAsync(cancellationToken);
        _app = app;

        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        endpoint.BaseAddress = new Uri(address);
        Log.HttpListening(logger, address);
        if (logger.IsEnabled(LogLevel.Information))
        {
            // The block func start prints, so a newcomer sees every function and where it listens.
            Console.Out.Write(FunctionsBlock(address.TrimEnd('/'), routes));
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }

        Task[] pending;
        lock (_webhookWork)
        {
            pending = [.. _webhookWork];
        }

        try
        {
            await Task.WhenAll(pending).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout passed, or the work ended on the stop signal cancelled above: stop waiting.
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A webhook invocation failed; it was logged (and its blob left for a retry) where it ran.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private async Task HandleFunctionAsync(HttpContext http, FunctionDescriptor function)
    {
        var trigger = function.TriggerAs<HttpTriggerAttribute>();
        if (!keys.IsAuthorized(http.Request, trigger.AuthLevel))
        {
            await WriteProblemAsync(http, HttpStatusCode.Unauthorized,
                $"Function '{function.Name}' needs a key ({FunctionKeys.HeaderName} header or '{FunctionKeys.QueryName}' query).");
            return;
        }

        if (http.Request.ContentLength is { } length && length > options.Value.Http.MaxRequestBodyBytes)
        {
            if (length <= options.Value.Http.MaxRequestBodyBytes + DrainedOverLimit && http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                // Read (and drop) a body a little over the limit, so the client, still sending, gets the 413 rather than a reset connection.
                limit.MaxRequestBodySize = null;
                await http.Request.Body.CopyToAsync(Stream.Null, http.RequestAborted);
            }

            await WriteProblemAsync(http, HttpStatusCode.RequestEntityTooLarge,
                $"The request body is over the limit of {options.Value.Http.MaxRequestBodyBytes} bytes.");
            return;
        }

        var routeValues = http.Request.RouteValues.ToDictionary(r => r.Key, r => (object?)r.Value?.ToString(), StringComparer.OrdinalIgnoreCase);
        try
        {
            var result = await invoker.InvokeAsync(
                function,
                new InvocationRequest(context => ValueTask.FromResult<object?>(new LocalHttpRequestData(context, http)), routeValues),
                http.RequestAborted);
            if (HttpMethods.IsPut(http.Request.Method) || HttpMethods.IsPost(http.Request.Method))
            {
                // It may have written a blob a trigger watches (an upload route): look now, not at the next poll.
                blobScan.Raise();
            }

            await WriteResultAsync(http, result);
        }
        catch (FunctionInvocationException ex) when (ex.InnerException is BadHttpRequestException bad)
        {
            await WriteProblemAsync(http, (HttpStatusCode)bad.StatusCode, bad.Message);
        }
        catch (FunctionInvocationException)
        {
            // Logged by the invoker, with the invocation id; the caller gets no internals.
            await WriteProblemAsync(http, HttpStatusCode.InternalServerError, "The function failed; see the host log.");
        }
    }

    private async Task WriteResultAsync(HttpContext http, object? result)
    {
        switch (result)
        {
            case LocalHttpResponseData response:
                await response.CopyToAsync(http.Response, http.RequestAborted);
                break;
            case null:
                http.Response.StatusCode = StatusCodes.Status204NoContent;
                break;
            case string text:
                http.Response.ContentType = "text/plain; charset=utf-8";
                await http.Response.WriteAsync(text, http.RequestAborted);
                break;
            default:
                http.Response.ContentType = "application/json; charset=utf-8";
                // A returned object is JSON through the worker's serializer, as the worker answers it.
                await worker.Value.Serializer!.SerializeAsync(http.Response.Body, result, result.GetType(), http.RequestAborted);
                break;
        }
    }

    private async Task HandleBlobWebhookAsync(HttpContext http)
    {
        var functionName = (http.Request.Query["functionName"].FirstOrDefault() ?? string.Empty).Replace("Host.Functions.", string.Empty, StringComparison.Ordinal);
        if (!keys.IsAuthorizedForExtension(http.Request, FunctionKeys.BlobsExtension))
        {
            await WriteProblemAsync(http, HttpStatusCode.Unauthorized, "The blob webhook needs the blobs_extension system key or the master key.");
            return;
        }

        var function = catalog.Find(functionName);
        if (function?.Trigger is not BlobTriggerAttribute)
        {
            await WriteProblemAsync(http, HttpStatusCode.NotFound, $"No blob-triggered function named '{functionName}'.");
            return;
        }

        JsonElement[] events;
        try
        {
            using var document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            events = document.RootElement.ValueKind == JsonValueKind.Array
                ? [.. document.RootElement.EnumerateArray().Select(e => e.Clone())]
                : [document.RootElement.Clone()];
        }
        catch (JsonException ex)
        {
            await WriteProblemAsync(http, HttpStatusCode.BadRequest, $"The body is not an Event Grid event array: {ex.Message}");
            return;
        }

        if (string.Equals(http.Request.Headers["aeg-event-type"], "SubscriptionValidation", StringComparison.OrdinalIgnoreCase))
        {
            var code = events.Select(e => e.TryGetProperty("data", out var d) && d.TryGetProperty("validationCode", out var c) ? c.GetString() : null).FirstOrDefault(c => c is not null);
            await http.Response.WriteAsJsonAsync(new { validationResponse = code }, http.RequestAborted);
            return;
        }

        var pattern = blobs.PatternOf(function);
        var accepted = new List<string>();
        foreach (var notification in events)
        {
            var eventType = notification.TryGetProperty("eventType", out var t) ? t.GetString() : notification.TryGetProperty("type", out var ct) ? ct.GetString() : null;
            var subject = notification.TryGetProperty("subject", out var s) ? s.GetString() : null;
            if (eventType != "Microsoft.Storage.BlobCreated" || subject is null)
            {
                continue;
            }

            const string marker = "/blobServices/default/containers/";
            var blobsAt = subject.IndexOf("/blobs/", StringComparison.Ordinal);
            if (!subject.StartsWith(marker, StringComparison.Ordinal) || blobsAt < 0)
            {
                Log.WebhookRejected(logger, function.Name, $"subject '{subject}' is not a blob subject");
                continue;
            }

            var container = subject[marker.Length..blobsAt];
            var blobName = subject[(blobsAt + "/blobs/".Length)..];
            if (container != pattern.Container || !BlobNameRules.IsSafeBlobName(blobName) || pattern.Match(blobName) is null)
            {
                Log.WebhookRejected(logger, function.Name, $"blob '{container}/{blobName}' is not under '{pattern}' or its name is not safe");
                continue;
            }

            accepted.Add(blobName);
        }

        foreach (var blobName in accepted)
        {
            var work = ProcessNotifiedBlobAsync(function, blobName);
            lock (_webhookWork)
            {
                _webhookWork.RemoveAll(w => w.IsCompleted);
                _webhookWork.Add(work);
            }
        }

        http.Response.StatusCode = StatusCodes.Status202Accepted;
        await http.Response.WriteAsJsonAsync(new { accepted = accepted.Count }, http.RequestAborted);
    }

    private async Task ProcessNotifiedBlobAsync(FunctionDescriptor function, string blobName)
    {
        await Task.Yield();
        try
        {
            var properties = await blobs.ContainerOf(function).GetBlobClient(blobName).GetPropertiesAsync(cancellationToken: _stopping.Token);
            await blobs.ProcessAsync(function, blobName, properties.Value.ETag, _stopping.Token);
        }
        catch (RequestFailedException ex)
        {
            Log.WebhookRejected(logger, function.Name, $"blob '{blobName}': {ex.Message}");
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// The host's own routes (the Durable API, webhooks) answer 503 with a <c>Retry-After</c> while storage cannot be
    /// reached, instead of an empty 500; a function's failures were answered already, by the app's middleware or as 500.
    /// </summary>
    private async Task AnswerStorageOutagesAsync(HttpContext http, RequestDelegate next)
    {
        try
        {
            await next(http);
        }
        catch (Exception ex) when (StorageOutage.IsOutage(ex) && !http.Response.HasStarted)
        {
            Log.StorageUnreachable(logger, http.Request.Path, ex.GetBaseException().Message);
            http.Response.Clear();
            http.Response.Headers.RetryAfter = StorageOutage.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await WriteProblemAsync(http, HttpStatusCode.ServiceUnavailable, StorageOutage.Detail);
        }
    }

    internal static async Task WriteProblemAsync(HttpContext http, HttpStatusCode status, string detail)
    {
        http.Response.StatusCode = (int)status;
        await http.Response.WriteAsJsonAsync(
            new { type = "about:blank", title = ReasonPhrases(status), status = (int)status, detail }, (JsonSerializerOptions?)null, "application/problem+json", http.RequestAborted);
    }

    private static string ReasonPhrases(HttpStatusCode status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase((int)status);

    private string FunctionsBlock(string baseAddress, Dictionary<FunctionDescriptor, string> routes)
    {
        var block = new System.Text.StringBuilder().AppendLine().AppendLine("Functions:").AppendLine();
        foreach (var function in catalog.Functions)
        {
            var where = function.Trigger switch
            {
                HttpTriggerAttribute http => $"[{Methods(http)}] {baseAddress}/{routes[function]}",
                BlobTriggerAttribute => $"{function.BindingType} ({blobs.PatternOf(function)})",
                TimerTriggerAttribute timer => $"{function.BindingType} ({timer.Schedule})",
                QueueTriggerAttribute queue => $"{function.BindingType} ({queue.QueueName})",
                _ => function.BindingType,
            };
            block.Append("        ").Append(function.Name).Append(": ").AppendLine(where).AppendLine();
        }

        return block.ToString();
    }

    private static string Methods(HttpTriggerAttribute http) =>
        http.Methods is { Length: > 0 } methods ? string.Join(",", methods.Select(m => m.ToUpperInvariant())) : "GET,POST,PUT,DELETE,HEAD,PATCH,OPTIONS";

    /// <summary>The inner web app lives inside the Functions host: it must not take Ctrl+C or print its own start-up lines.</summary>
    private sealed class HostedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
