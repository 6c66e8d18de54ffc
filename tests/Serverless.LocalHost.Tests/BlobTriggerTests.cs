using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Serverless.LocalHost.Blobs;
using Serverless.LocalHost.Tests.Functions;
using Serverless.Testing;

namespace Serverless.LocalHost.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class BlobTriggerTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly string _container = $"test-{Guid.NewGuid():N}"[..30];
    private readonly string _hostId = $"host-{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task DroppedBlob_InvokedExactlyOnce_AlsoAfterRestart()
    {
        var recorder = new InvocationRecorder();
        var container = await CreateContainerAsync();
        await using (var first = await StartAsync(typeof(BlobFunctions), recorder))
        {
            await container.UploadBlobAsync("folder/data.csv", BinaryData.FromString("a,b\n1,2\n"));
            await Eventually.WaitForAsync(() => recorder.Calls.Count, c => c >= 1, Patience, "the first invocation");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        await using (var second = await StartAsync(typeof(BlobFunctions), recorder))
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        var call = Assert.Single(recorder.Calls);
        Assert.Equal($"folder/data.csv|a,b\n1,2\n|{_container}/folder/data.csv", call);
    }

    [Fact]
    public async Task OverwrittenBlob_NewVersionInvokedOnceMore_InputLeftAsIs()
    {
        var recorder = new InvocationRecorder();
        var container = await CreateContainerAsync();
        var blob = container.GetBlobClient("data.csv");
        await using var host = await StartAsync(typeof(BlobFunctions), recorder);

        await blob.UploadAsync(BinaryData.FromString("v1"));
        await Eventually.WaitForAsync(() => recorder.Calls.Count, c => c >= 1, Patience, "version 1");
        await blob.UploadAsync(BinaryData.FromString("v2"), overwrite: true);
        var etag = (await blob.GetPropertiesAsync()).Value.ETag;
        await Eventually.WaitForAsync(() => recorder.Calls.Count, c => c >= 2, Patience, "version 2");
        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.Equal(["data.csv|v1", "data.csv|v2"], recorder.Calls.Select(c => string.Join('|', c.Split('|').Take(2))));
        Assert.Equal(etag, (await blob.GetPropertiesAsync()).Value.ETag);
    }

    [Fact]
    public async Task FailingFunction_FiveAttemptsThenPoisonMessage_BlobKept()
    {
        var recorder = new InvocationRecorder();
        var container = await CreateContainerAsync();
        var poison = new QueueClient(azurite.ConnectionString, BlobTriggerProcessor.PoisonQueueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await using var host = await StartAsync(typeof(FailingBlobFunctions), recorder);

        await container.UploadBlobAsync("in/bad.csv", BinaryData.FromString("x"));
        var message = await Eventually.PollAsync(
            async () => await poison.ExistsAsync() ? (await poison.PeekMessagesAsync(32)).Value.FirstOrDefault(m => m.Body.ToString().Contains(_container, StringComparison.Ordinal)) : null,
            m => m is not null,
            Patience,
            "the poison message");
        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.Equal(["bad.csv|retry 0", "bad.csv|retry 1", "bad.csv|retry 2", "bad.csv|retry 3", "bad.csv|retry 4"], recorder.Calls);
        using var body = JsonDocument.Parse(message!.Body.ToString());
        Assert.Equal("BlobTrigger", body.RootElement.GetProperty("Type").GetString());
        Assert.Equal("Host.Functions.OnBlobFails", body.RootElement.GetProperty("FunctionId").GetString());
        Assert.Equal("in/bad.csv", body.RootElement.GetProperty("BlobName").GetString());
        Assert.True(await container.GetBlobClient("in/bad.csv").ExistsAsync());
    }

    [Fact]
    public async Task EventGridWebhook_BlobCreated_ProcessedOnceAndPathTricksRejected()
    {
        var recorder = new InvocationRecorder();
        var container = await CreateContainerAsync();
        await using var host = await StartAsync(typeof(BlobFunctions), recorder, pollInterval: "01:00:00");
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        await container.UploadBlobAsync("evented.csv", BinaryData.FromString("e"));

        using var unauthorized = await host.Http.PostAsJsonAsync("runtime/webhooks/blobs?functionName=Host.Functions.OnBlob", Events("evented.csv"));
        using var tricked = await PostWebhookAsync(host, Events("../escape.csv"));
        using var accepted = await PostWebhookAsync(host, Events("evented.csv"));
        using var duplicate = await PostWebhookAsync(host, Events("evented.csv"));
        await Eventually.WaitForAsync(() => recorder.Calls.Count, c => c >= 1, Patience, "the evented invocation");
        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal(0, (await tricked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.StartsWith("evented.csv|e|", Assert.Single(recorder.Calls), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EventGridWebhook_SubscriptionValidation_EchoesTheCode()
    {
        await using var host = await StartAsync(typeof(BlobFunctions), new InvocationRecorder(), pollInterval: "01:00:00");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"runtime/webhooks/blobs?functionName=Host.Functions.OnBlob&code={TestFunctionsHost.MasterKey}")
        {
            Content = JsonContent.Create(new[] { new { eventType = "Microsoft.EventGrid.SubscriptionValidationEvent", data = new { validationCode = "abc-123" } } }),
        };
        request.Headers.Add("aeg-event-type", "SubscriptionValidation");

        using var response = await host.Http.SendAsync(request);

        Assert.Equal("abc-123", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("validationResponse").GetString());
    }

    private object[] Events(string blobName) =>
        [new { eventType = "Microsoft.Storage.BlobCreated", subject = $"/blobServices/default/containers/{_container}/blobs/{blobName}", data = new { url = "ignored" } }];

    private static Task<HttpResponseMessage> PostWebhookAsync(TestFunctionsHost host, object[] events) =>
        host.Http.PostAsJsonAsync($"runtime/webhooks/blobs?functionName=Host.Functions.OnBlob&code={TestFunctionsHost.MasterKey}", events);

    private async Task<BlobContainerClient> CreateContainerAsync()
    {
        var container = new BlobContainerClient(azurite.ConnectionString, _container);
        await container.CreateIfNotExistsAsync();
        return container;
    }

    private Task<TestFunctionsHost> StartAsync(Type functions, InvocationRecorder recorder, string pollInterval = "00:00:00.200") =>
        TestFunctionsHost.StartAsync(
            [functions],
            new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = azurite.ConnectionString,
                ["TestContainer"] = _container,
                ["LocalHost:HostId"] = _hostId,
                ["LocalHost:Blobs:PollInterval"] = pollInterval,
            },
            builder => builder.Services.AddSingleton(recorder));
}
