using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Hosting;
using Serverless.LocalHost.Hosting;
using Serverless.LocalHost.Invocation;

namespace Serverless.LocalHost.Tests;

/// <summary>
/// The local host finds the app's functions from their <c>[Function]</c> attributes; the Functions host reads the
/// <c>functions.metadata</c> that Worker.Sdk writes at build time. Both must see the same functions and bindings.
/// </summary>
public sealed class FunctionMetadataTests
{
    [Fact]
    public void Catalog_OfTheApp_MatchesWorkerSdkFunctionsMetadata()
    {
        using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "functions.metadata")));
        var catalog = AppCatalog();
        var written = metadata.RootElement.EnumerateArray().ToList();

        Assert.Equal(
            written.Select(f => f.GetProperty("name").GetString()).Order(StringComparer.Ordinal),
            catalog.Functions.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.All(written, function =>
        {
            var name = function.GetProperty("name").GetString()!;
            var found = catalog.Find(name)!;
            var trigger = function.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));
            Assert.Equal(function.GetProperty("entryPoint").GetString(), found.EntryPoint);
            Assert.Equal(trigger.GetProperty("type").GetString(), found.BindingType);
            Assert.Equal(trigger.GetProperty("name").GetString(), found.TriggerParameter.Name);
            switch (found.Trigger)
            {
                case HttpTriggerAttribute http:
                    Assert.Equal(trigger.GetProperty("authLevel").GetString(), http.AuthLevel.ToString());
                    Assert.Equal(trigger.GetProperty("route").GetString(), http.Route);
                    Assert.Equal(trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()), http.Methods!);
                    break;
                case BlobTriggerAttribute blob:
                    Assert.Equal(trigger.GetProperty("path").GetString(), blob.BlobPath);
                    break;
                case TimerTriggerAttribute timer:
                    Assert.Equal(trigger.GetProperty("schedule").GetString(), timer.Schedule);
                    break;
                case QueueTriggerAttribute queue:
                    Assert.Equal(trigger.GetProperty("queueName").GetString(), queue.QueueName);
                    break;
            }
        });
    }

    /// <summary>The catalog the local host builds for the app: services only, nothing started or called.</summary>
    private static FunctionCatalog AppCatalog()
    {
        var builder = LocalFunctionsHost.CreateBuilder([], typeof(ServerlessPipelineExtensions).Assembly);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RetrainSchedule"] = "0 0 3 * * *",
            ["TASKHUB_NAME"] = "MetadataTest",
        });
        using var host = builder.Build();
        return host.Services.GetRequiredService<FunctionCatalog>();
    }
}
