using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Functions.Hosting;
using Serverless.Functions.Tests.EndToEnd;
using Serverless.Testing;

namespace Serverless.Functions.Tests.Reliability;

/// <summary>
/// Storage stops while the app runs (its Azurite stopped) and comes back: while it is down, every route that needs it
/// answers 503 with a <c>Retry-After</c> and says storage is unreachable (before: empty 500s), and the host stays up;
/// a run started before the outage finishes after it (on a new host: see the comment in the test).
/// </summary>
public sealed class StorageOutageTests : IAsyncLifetime
{
    private readonly string _model = $"outage-{Guid.NewGuid():N}"[..16];
    private readonly string _hub = $"Outage{Guid.NewGuid():N}"[..20];
    private AzuriteFixture _azurite = null!;
    private TestFunctionsHost _host = null!;
    private AppUnderTest _app = null!;

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteFixture.StartOwnAsync();
        _host = await StartHostAsync();
        _app = new AppUnderTest(_host.Http, _azurite.ConnectionString, _model, "score-out");
    }

    private Task<TestFunctionsHost> StartHostAsync() =>
        AppUnderTest.StartHostAsync(_azurite.ConnectionString, "score-out", new Dictionary<string, string?> { ["TASKHUB_NAME"] = _hub, ["LocalHost:HostId"] = "outage-host" });

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _azurite.DisposeAsync();
    }

    [Fact]
    public async Task StorageDown_RoutesAnswer503WithRetryAfter_RunStartedBeforeFinishesAfter()
    {
        var statusUrl = await _app.StartTrainingAsync(SyntheticData.CustomersCsv(400, seed: 1, withLabel: true, badEvery: 0), earlyTermination: false, requireApproval: false);
        await AppUnderTest.WaitAsync(statusUrl, s => s.GetProperty("customStatus").ValueKind == JsonValueKind.Object);
        using var before = await _host.Http.GetAsync("api/models/no-such-model");

        await _azurite.StopAsync();
        var down = new Dictionary<string, HttpResponseMessage>
        {
            ["model"] = await _host.Http.GetAsync("api/models/no-such-model"),
            ["predict"] = await _host.Http.PostAsJsonAsync("api/models/no-such-model/predict", new { rows = new[] { new { x1 = 1 } } }),
            ["results"] = await _host.Http.GetAsync("api/scoring/results/no-such-model/file.csv"),
            ["status"] = await new HttpClient().GetAsync(statusUrl),
        };
        using var health = await new HttpClient { BaseAddress = _host.Http.BaseAddress }.GetAsync("api/health");
        await _azurite.InitializeAsync();
        var after = await Eventually.PollAsync(
            async () => (await _host.Http.GetAsync("api/models/no-such-model")).StatusCode, s => s == HttpStatusCode.NotFound, AppUnderTest.Patience, "the model route after the outage");

        // The Durable Task Framework keeps an activity that was in flight when its storage calls failed as 'in progress'
        // in memory (DurableTask.AzureStorage 2.11.2 does not forget a session whose abandon threw), so this process would
        // not run it again; a new host does, as a recycled worker does in Azure. See docs/RELIABILITY.md.
        await _host.DisposeAsync();
        _host = await StartHostAsync();
        statusUrl = new Uri(_host.Http.BaseAddress!, new Uri(statusUrl).PathAndQuery).ToString();
        var finished = await AppUnderTest.WaitAsync(statusUrl, s => s.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed");

        Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
        foreach (var (route, response) in down)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{route}: {(int)response.StatusCode} {body}");
            Assert.Equal("10", response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Contains("Storage is unreachable", body, StringComparison.Ordinal);
            Assert.DoesNotContain("127.0.0.1", body, StringComparison.Ordinal);
            response.Dispose();
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, after);
        Assert.True(finished.GetProperty("runtimeStatus").GetString() == "Completed", finished.ToString());
        Assert.Equal(1, finished.GetProperty("output").GetProperty("version").GetInt32());
    }
}
