using System.Net;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Moq;
using Serverless.Functions.Triggers.Http;

namespace Serverless.Functions.Tests.Triggers;

public sealed class HealthTests
{
    [Fact]
    public async Task RunAsync_StorageUnreachable_Returns503NamingTheCheckWithoutDetails()
    {
        var health = new Health(HealthService(HealthStatus.Unhealthy, "Storage is not reachable: refused"));

        var response = (TestHttp.Response)await health.RunAsync(TestHttp.Request(), CancellationToken.None);
        using var body = response.ReadJson();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("Unhealthy", body.RootElement.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", body.RootElement.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
        Assert.False(body.RootElement.GetProperty("checks").GetProperty("storage").TryGetProperty("description", out _));
    }

    [Fact]
    public async Task HealthDetails_KeyedCallers_SeeWhatTheCheckFound()
    {
        var health = new Health(HealthService(HealthStatus.Healthy, "Blob service http://127.0.0.1:10000 answered."));

        var anonymous = (TestHttp.Response)await health.RunAsync(TestHttp.Request(), CancellationToken.None);
        var keyed = (TestHttp.Response)await health.HealthDetails(TestHttp.Request(), CancellationToken.None);
        using var plain = anonymous.ReadJson();
        using var detailed = keyed.ReadJson();

        Assert.DoesNotContain("127.0.0.1", plain.RootElement.GetRawText(), StringComparison.Ordinal);
        Assert.Equal("Blob service http://127.0.0.1:10000 answered.", detailed.RootElement.GetProperty("checks").GetProperty("storage").GetProperty("description").GetString());
    }

    [Fact]
    public async Task RunAsync_Healthy_Returns200WithVersion()
    {
        var health = new Health(HealthService(HealthStatus.Healthy, "answered"));

        var response = (TestHttp.Response)await health.RunAsync(TestHttp.Request(), CancellationToken.None);
        using var body = response.ReadJson();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("0.1.0", body.RootElement.GetProperty("version").GetString());
        Assert.StartsWith("application/json", response.Headers.GetValues("Content-Type").Single(), StringComparison.Ordinal);
    }

    private static HealthCheckService HealthService(HealthStatus status, string description)
    {
        var report = new HealthReport(
            new Dictionary<string, HealthReportEntry> { ["storage"] = new(status, description, TimeSpan.FromMilliseconds(3), null, null) },
            TimeSpan.FromMilliseconds(3));
        var service = new Mock<HealthCheckService>();
        service.Setup(s => s.CheckHealthAsync(It.IsAny<Func<HealthCheckRegistration, bool>?>(), It.IsAny<CancellationToken>())).ReturnsAsync(report);
        return service.Object;
    }
}
