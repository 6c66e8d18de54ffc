using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Serverless.Functions.Hosting;
using Serverless.Functions.Triggers.Blob;
using Serverless.Functions.Triggers.Http;
using Serverless.Functions.Triggers.Timer;
using Serverless.Testing;

namespace Serverless.Functions.Tests.EndToEnd;

/// <summary>The app's own functions on the local runtime and a real Azurite, as a user runs them.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AppEndToEndTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly string _output = $"out-{Guid.NewGuid():N}"[..24];
    private TestFunctionsHost _host = null!;

    public async Task InitializeAsync() =>
        _host = await TestFunctionsHost.StartAsync(
            [typeof(Health), typeof(ScoreOnBlobDrop), typeof(RetrainOnSchedule), typeof(ScoringFiles)],
            new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = azurite.ConnectionString,
                ["RetrainSchedule"] = "0 0 3 * * *",
                ["TASKHUB_NAME"] = $"E2E{Guid.NewGuid():N}"[..20],
                ["Pipeline:ScoringOutputContainer"] = _output,
                ["LocalHost:HostId"] = $"e2e-{Guid.NewGuid():N}"[..20],
            },
            builder => builder.AddServerlessPipeline());

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task GetHealth_StorageUp_HealthyWithVersion()
    {
        using var response = await _host.Http.GetAsync("api/health");
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
    }

    [Fact]
    public async Task DropCsv_SummaryWritten_InputUntouched()
    {
        var input = new BlobContainerClient(azurite.ConnectionString, PipelineOptions.ScoringInputContainer);
        await input.CreateIfNotExistsAsync();
        var name = $"{Guid.NewGuid():N}/customers.csv";
        var blob = input.GetBlobClient(name);
        await blob.UploadAsync(BinaryData.FromString("id,name,spend\n1,\"Ann\nSmith\",3.5\n2,Bob\n3,Cy,9\n"));
        var etag = (await blob.GetPropertiesAsync()).Value.ETag;

        var summary = await ReadSummaryAsync(name);

        Assert.Equal("rejected", summary.GetProperty("status").GetString());
        Assert.Equal(3, summary.GetProperty("rows").GetInt64());
        Assert.Equal(1, summary.GetProperty("malformedRows").GetInt64());
        Assert.Equal(["id", "name", "spend"], summary.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        Assert.Contains($"score-in/{name}, row 3", summary.GetProperty("problems")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(etag, (await blob.GetPropertiesAsync()).Value.ETag);
    }

    [Fact]
    public async Task DropNonCsv_SummarySaysOnlyCsvIsScored()
    {
        var input = new BlobContainerClient(azurite.ConnectionString, PipelineOptions.ScoringInputContainer);
        await input.CreateIfNotExistsAsync();
        var name = $"{Guid.NewGuid():N}.json";
        await input.UploadBlobAsync(name, BinaryData.FromString("{}"));

        var summary = await ReadSummaryAsync(name);

        Assert.Equal("rejected", summary.GetProperty("status").GetString());
        Assert.Contains("only .csv", summary.GetProperty("problems")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutCsvOverHttp_BlobTriggerRuns_ResultServedOverHttp()
    {
        var name = $"{Guid.NewGuid():N}/orders.csv";
        _host.Http.DefaultRequestHeaders.Add("x-functions-key", TestFunctionsHost.FunctionKey);

        using var withoutKey = new HttpClient { BaseAddress = _host.Http.BaseAddress };
        using var noKey = await withoutKey.PutAsync($"api/scoring/inputs/{name}", new StringContent("a\n1\n"));
        using var badName = await _host.Http.PutAsync("api/scoring/inputs/bad%5Cname.csv", new StringContent("a\n1\n"));
        using var accepted = await _host.Http.PutAsync($"api/scoring/inputs/{name}", new StringContent("a,b\n1,2\n3,4\n"));
        var resultUrl = accepted.Headers.Location!;
        var result = await Eventually.PollAsync(
            async () =>
            {
                using var response = await _host.Http.GetAsync(resultUrl);
                return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonElement>() : (JsonElement?)null;
            },
            r => r is not null,
            Patience,
            "the result over HTTP");

        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal("received", result!.Value.GetProperty("status").GetString());
        Assert.Equal(2, result.Value.GetProperty("rows").GetInt64());
    }

    private async Task<JsonElement> ReadSummaryAsync(string name)
    {
        var summary = new BlobContainerClient(azurite.ConnectionString, _output).GetBlobClient($"{name}/summary.json");
        var content = await Eventually.PollAsync(
            async () =>
            {
                try
                {
                    return (await summary.DownloadContentAsync()).Value.Content.ToString();
                }
                catch (RequestFailedException ex) when (ex.Status == 404)
                {
                    return null;
                }
            },
            c => c is not null,
            Patience,
            $"{_output}/{name}/summary.json");
        return JsonDocument.Parse(content!).RootElement.Clone();
    }
}
