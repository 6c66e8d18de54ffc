using System.Net;
using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Serverless.Functions.Triggers.Http;

/// <summary><c>GET /api/health</c>: the app's version and whether its storage answers; 503 when it does not.</summary>
public sealed class Health(HealthCheckService healthChecks)
{
    private static readonly string Version =
        typeof(Health).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    /// <summary>The health report. Anonymous, so probes and people can call it without a key; it shows no secrets.</summary>
    [Function(nameof(Health))]
    public async Task<HttpResponseData> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        var report = await healthChecks.CheckHealthAsync(cancellationToken);
        var response = request.CreateResponse(report.Status == HealthStatus.Unhealthy ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK);
        await response.WriteAsJsonAsync(new HealthReportBody(
            report.Status.ToString(),
            Version,
            report.Entries.ToDictionary(
                e => e.Key,
                e => new HealthCheckBody(e.Value.Status.ToString(), e.Value.Description, Math.Round(e.Value.Duration.TotalMilliseconds)))), cancellationToken);
        return response;
    }

    /// <summary>The body of <c>GET /api/health</c>.</summary>
    public sealed record HealthReportBody(string Status, string Version, IReadOnlyDictionary<string, HealthCheckBody> Checks);

    /// <summary>One check in the health body.</summary>
    public sealed record HealthCheckBody(string Status, string? Description, double DurationMs);
}
