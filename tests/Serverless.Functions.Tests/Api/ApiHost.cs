using Serverless.Functions.Hosting;
using Serverless.Functions.Scoring;
using Serverless.Functions.Tests.EndToEnd;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Registry;
using Serverless.Pipeline.Training;
using Serverless.Testing;

namespace Serverless.Functions.Tests.Api;

/// <summary>
/// The app on the local host with the function key, and registry and tracking records written straight to storage, so
/// route tests need no training: versions with a small artifact, runs with trials, scoring summaries.
/// </summary>
internal sealed class ApiHost : IAsyncDisposable
{
    private ApiHost(TestFunctionsHost host, string output)
    {
        Host = host;
        Output = output;
    }

    public TestFunctionsHost Host { get; }

    public HttpClient Http => Host.Http;

    public string Output { get; }

    public PipelineStore Store => (PipelineStore)Host.Services.GetService(typeof(PipelineStore))!;

    public static async Task<ApiHost> StartAsync(AzuriteFixture azurite)
    {
        var output = $"out-{Guid.NewGuid():N}"[..24];
        var host = await AppUnderTest.StartHostAsync(azurite.ConnectionString, output);
        var api = new ApiHost(host, output);
        await api.Store.EnsureCreatedAsync(CancellationToken.None);
        return api;
    }

    /// <summary>Registers versions 1..<paramref name="versions"/> of a model, with AUCs rising by 0.01 from 0.80.</summary>
    public async Task RegisterAsync(string model, int versions, IReadOnlyDictionary<string, string>? tags = null)
    {
        for (var v = 1; v <= versions; v++)
        {
            await Store.Registry.RegisterAsync(
                new ModelRegistration(
                    model,
                    $"{model}-run-{v}",
                    "LightGbm",
                    new Dictionary<string, double> { ["numberOfLeaves"] = 31 },
                    new Dictionary<string, double> { ["auc"] = 0.80 + (v / 100.0) },
                    new ModelSignature([new ColumnSchema("x1", ColumnKind.Numeric)], "churned", MlTask.BinaryClassification, ["no", "yes"]),
                    new FeaturizationPlan("churned", MlTask.BinaryClassification, ["x1"], [], [], [], [], [], [], ["no", "yes"]),
                    "snapshot",
                    Tags: tags),
                new MemoryStream([1, 2, 3, (byte)v]),
                CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();
}
