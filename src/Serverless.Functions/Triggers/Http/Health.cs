using System.Net;
using System.Reflection;
using System.Text.Json.Serialization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Serverless.Functions.Triggers.Http;

/// <summary>
/// <c>GET /api/health</c> (anonymous): the app's version and whether each check passes, 503 when one fails, and
/// nothing about where storage is; <c>GET /api/health/details</c> (function key) adds what each check found.
/// </summary>
public sealed class Health(HealthCheckService healthChecks)
{
    private static readonly string Version =
        typeof(Health).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    /// <summary>The health report without details. Anonymous, so probes can call it without a key.</summary>
    [Function(nameof(Health))]
    public Task<HttpResponseData> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequestData request,
        CancellationToken cancellationToken) =>
        AnswerAsync(request, details: false, cancellationToken);

    /// <summary>The health report with what each check found (the storage endpoint, the error): for keyed callers.</summary>
    [Function(nameof(HealthDetails))]
    public Task<HttpResponseData> HealthDetails(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "health/details")] HttpRequestData request,
        CancellationToken cancellationToken) =>
        AnswerAsync(request, details: true, cancellationToken);

    private async Task<HttpResponseData> AnswerAsync(HttpRequestData request, bool details, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var report = await healthChecks.CheckHealthAsync(cancellationToken);
        var response = request.CreateResponse(report.Status == HealthStatus.Unhealthy ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK);
        await response.WriteAsJsonAsync(new HealthReportBody(
            report.Status.ToString(),
            Version,
            report.Entries.ToDictionary(
                e => e.Key,
                e => new HealthCheckBody(e.Value.Status.ToString(), details ? e.Value.Description : null, Math.Round(e.Value.Duration.TotalMilliseconds)))), cancellationToken);
        return response;
    }

    /// <summary>The body of <c>GET /api/health</c>.</summary>
    public sealed record HealthReportBody(string Status, string Version, IReadOnlyDictionary<string, HealthCheckBody> Checks);

    /// <summary>One check in the health body; its description only in the details.</summary>
    public sealed record HealthCheckBody(string Status, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description, double DurationMs);
}
