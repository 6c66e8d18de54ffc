using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Serverless.LocalHost.Tests.Functions;
using Serverless.Testing;

namespace Serverless.LocalHost.Tests;

/// <summary>The queue trigger on a real Azurite, with the host's defaults: delete on success, retry, then the poison queue.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class QueueTriggerTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly string _queue = $"orders-{Guid.NewGuid():N}"[..30];

    [Fact]
    public async Task Message_BoundFromJsonInvokedOnceDeleted()
    {
        var recorder = new InvocationRecorder();
        var queue = await CreateQueueAsync();
        await using var host = await StartAsync(recorder);

        await queue.SendMessageAsync("""{"id":"A-1","action":"ship"}""");
        await Eventually.WaitForAsync(() => recorder.Calls.Count, c => c >= 1, Patience, "the invocation");
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        Assert.Equal(["A-1|ship|delivery 1|retry 0"], recorder.Calls);
        Assert.Empty((await queue.PeekMessagesAsync(1)).Value);
    }

    [Fact]
    public async Task FailingMessage_DeliveredFiveTimesThenMovedToPoisonQueue()
    {
        var recorder = new InvocationRecorder();
        var queue = await CreateQueueAsync();
        var poison = new QueueClient(azurite.ConnectionString, $"{_queue}-poison", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await using var host = await StartAsync(recorder);

        await queue.SendMessageAsync("""{"id":"B-2","action":"fail"}""");
        var poisoned = await Eventually.PollAsync(
            async () => await poison.ExistsAsync() ? (await poison.PeekMessagesAsync(1)).Value : [],
            m => m.Length == 1,
            Patience,
            "the poison message");

        Assert.Equal([.. Enumerable.Range(1, 5).Select(d => $"B-2|fail|delivery {d}|retry {d - 1}")], recorder.Calls);
        Assert.Equal("""{"id":"B-2","action":"fail"}""", poisoned[0].Body.ToString());
        Assert.Empty((await queue.PeekMessagesAsync(1)).Value);
    }

    private async Task<QueueClient> CreateQueueAsync()
    {
        var queue = new QueueClient(azurite.ConnectionString, _queue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.CreateAsync();
        return queue;
    }

    private Task<TestFunctionsHost> StartAsync(InvocationRecorder recorder) =>
        TestFunctionsHost.StartAsync(
            [typeof(QueueFunctions)],
            new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = azurite.ConnectionString,
                ["TestQueue"] = _queue,
                ["LocalHost:Queues:PollInterval"] = "00:00:00.200",
            },
            builder => builder.Services.AddSingleton(recorder));
}
