using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Serverless.LocalHost.Tests.Functions;
using Serverless.Testing;

namespace Serverless.LocalHost.Tests;

/// <summary>
/// Orchestrations end to end on the Durable Task Framework's Azure Storage provider and a real Azurite, through the
/// local host's function wrappers, client and HTTP API; each test on its own task hub.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DurableIntegrationTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string _hub = $"Hub{Guid.NewGuid():N}"[..20];
    private readonly ActivityRuns _runs = new();
    private TestFunctionsHost _host = null!;

    private DurableTaskClient Client => _host.Services.GetRequiredService<DurableTaskClient>();

    public async Task InitializeAsync() => _host = await StartHostAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Chain_FiveActivities_SumsInOrder()
    {
        var output = await RunAsync<int>(nameof(DurableOrchestrators.Chain));

        Assert.Equal(15, output);
    }

    [Fact]
    public async Task FanOut_TwoHundredActivities_AllResultsGathered()
    {
        var metadata = await RunAsync(nameof(DurableOrchestrators.FanOut), 200);

        Assert.Equal(Enumerable.Range(1, 200).Sum(i => (long)i * i), metadata.ReadOutputAs<long>());
        Assert.Equal(200, metadata.ReadCustomStatusAs<JsonElement>().GetProperty("done").GetInt32());
    }

    [Fact]
    public async Task Retry_FailsTwiceThenSucceeds_ThirdAttemptsResult()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(DurableOrchestrators.RetryThenSucceed));
        var metadata = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true).WaitAsync(Patience);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, metadata.RuntimeStatus);
        Assert.Equal(3, metadata.ReadOutputAs<int>());
        Assert.Equal(3, _runs.Counts[$"fail-twice:{id}"]);
    }

    [Fact]
    public async Task Retry_Exhausted_TaskFailedExceptionCaughtWithCause()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(DurableOrchestrators.RetriesExhausted));
        var metadata = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true).WaitAsync(Patience);

        Assert.Equal("caught:True:this activity always fails", metadata.ReadOutputAs<string>());
        Assert.Equal(3, _runs.Counts[$"always-fails:{id}"]);
    }

    [Fact]
    public async Task TimerRacingEvent_EventFirst_EventWins()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(DurableOrchestrators.Approval), 30_000);
        await Client.WaitForInstanceStartAsync(id).WaitAsync(Patience);
        await Client.RaiseEventAsync(id, "approval", "yes");

        var metadata = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true).WaitAsync(Patience);

        Assert.Equal("approved:yes", metadata.ReadOutputAs<string>());
    }

    [Fact]
    public async Task TimerRacingEvent_NoEvent_TimerWins()
    {
        var output = await RunAsync<string>(nameof(DurableOrchestrators.Approval), 500);

        Assert.Equal("timeout", output);
    }

    [Fact]
    public async Task ExternalEvent_RaisedBeforeTheWait_IsKept()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(DurableOrchestrators.EventBeforeWait));
        await Client.WaitForInstanceStartAsync(id).WaitAsync(Patience);
        await Client.RaiseEventAsync(id, "early", "kept");

        var metadata = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true).WaitAsync(Patience);

        Assert.Equal("kept", metadata.ReadOutputAs<string>());
    }

    [Fact]
    public async Task SubOrchestration_ResultFlowsToParentAndChildSeesItsParent()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(DurableOrchestrators.Parent));
        var metadata = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true).WaitAsync(Patience);

        Assert.Equal($"150|{nameof(DurableOrchestrators.Parent)}:{id}", metadata.ReadOutputAs<string>());
    }

    [Fact]
    public async Task ContinueAsNew_RestartsWithNewInputUntilDone()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(DurableOrchestrators.CountUp), 1);
        var metadata = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true).WaitAsync(Patience);

        Assert.Equal(5, metadata.ReadOutputAs<int>());
        Assert.Equal(5, metadata.ReadInputAs<int>());
    }

    [Fact]
    public async Task LargeActivityResult_StoredAsBlob_RoundTrips()
    {
        var blobs = new Azure.Storage.Blobs.BlobContainerClient(azurite.ConnectionString, $"{_hub.ToLowerInvariant()}-largemessages");

        var length = await RunAsync<int>(nameof(DurableOrchestrators.BigPayload), 200_000);
        var stored = new List<string>();
        await foreach (var blob in blobs.GetBlobsAsync())
        {
            stored.Add(blob.Name);
        }

        Assert.Equal(200_000, length);
        Assert.NotEmpty(stored);
    }

    [Fact]
    public async Task Schedule_IdAlreadyRunning_Refused()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(DurableOrchestrators.WaitsForever));

        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() =>
            Client.ScheduleNewOrchestrationInstanceAsync(nameof(DurableOrchestrators.WaitsForever), new StartOrchestrationOptions(id)));

        Assert.Contains(id, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TerminateSuspendResumePurge_AsDurableDoes()
    {
        var suspended = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(DurableOrchestrators.Approval), 60_000);
        await Client.WaitForInstanceStartAsync(suspended).WaitAsync(Patience);
        await Client.SuspendInstanceAsync(suspended, "pause");
        await WaitForStatusAsync(suspended, OrchestrationRuntimeStatus.Suspended);
        await Client.RaiseEventAsync(suspended, "approval", "while suspended");
        await Task.Delay(500);
        Assert.Equal(OrchestrationRuntimeStatus.Suspended, (await Client.GetInstanceAsync(suspended))!.RuntimeStatus);
        await Client.ResumeInstanceAsync(suspended, "go on");
        var resumed = await Client.WaitForInstanceCompletionAsync(suspended, getInputsAndOutputs: true).WaitAsync(Patience);

        var terminated = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(DurableOrchestrators.WaitsForever));
        await Client.WaitForInstanceStartAsync(terminated).WaitAsync(Patience);
        await Client.TerminateInstanceAsync(terminated, "stopped by test");
        var ended = await Client.WaitForInstanceCompletionAsync(terminated, getInputsAndOutputs: true).WaitAsync(Patience);
        var purge = await Client.PurgeInstanceAsync(terminated);

        Assert.Equal("approved:while suspended", resumed.ReadOutputAs<string>());
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, ended.RuntimeStatus);
        Assert.Equal("stopped by test", ended.ReadOutputAs<string>());
        Assert.Equal(1, purge.PurgedInstanceCount);
        Assert.Null(await Client.GetInstanceAsync(terminated));
    }

    [Fact]
    public async Task HostStoppedMidRun_NewHostFinishes_EachCompletedStepRanOnce()
    {
        var input = new StepInput("restart", 8, DelayMs: 250);
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(DurableOrchestrators.SlowChain), input);
        await Eventually.WaitForAsync(() => _runs.Counts.Count, c => c >= 3, Patience, "three steps before the stop");
        await _host.DisposeAsync();
        var ranBeforeStop = _runs.Counts.Count;

        _host = await StartHostAsync();
        var metadata = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true).WaitAsync(Patience);

        Assert.Equal(8, metadata.ReadOutputAs<int>());
        Assert.InRange(ranBeforeStop, 3, 7);
        Assert.Equal(8, _runs.Counts.Count);
        Assert.All(_runs.Counts, step => Assert.Equal(1, step.Value));
    }

    [Fact]
    public async Task HttpStarter_CheckStatusResponse_StatusUrlAnswersAsDurable()
    {
        using var start = new HttpRequestMessage(HttpMethod.Post, "api/orchestrators/FanOut") { Content = JsonContent.Create(20) };
        start.Headers.Add("x-functions-key", TestFunctionsHost.FunctionKey);
        using var accepted = await _host.Http.SendAsync(start);
        var payload = await accepted.Content.ReadFromJsonAsync<JsonElement>();
        var statusUrl = payload.GetProperty("statusQueryGetUri").GetString()!;

        var done = await Eventually.PollAsync(
            async () =>
            {
                using var status = await _host.Http.GetAsync(statusUrl);
                return (status.StatusCode, Body: await status.Content.ReadFromJsonAsync<JsonElement>());
            },
            r => r.StatusCode == HttpStatusCode.OK,
            Patience,
            "the status URL to answer 200");
        using var withoutKey = await _host.Http.GetAsync(statusUrl.Split('?')[0]);

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(statusUrl, accepted.Headers.Location!.ToString());
        Assert.Equal(
            ["id", "purgeHistoryDeleteUri", "restartPostUri", "resumePostUri", "rewindPostUri", "sendEventPostUri", "statusQueryGetUri", "suspendPostUri", "terminatePostUri"],
            payload.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.EndsWith($"?taskHub={_hub}&connection=Storage&code={TestFunctionsHost.DurableKey}", statusUrl, StringComparison.Ordinal);
        Assert.Equal("Completed", done.Body.GetProperty("runtimeStatus").GetString());
        Assert.Equal(Enumerable.Range(1, 20).Sum(i => i * i), done.Body.GetProperty("output").GetInt64());
        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);

        using var list = new HttpRequestMessage(HttpMethod.Get, "runtime/webhooks/durabletask/instances?runtimeStatus=Completed&top=50");
        list.Headers.Add("x-functions-key", TestFunctionsHost.MasterKey);
        using var listed = await _host.Http.SendAsync(list);
        var instances = await listed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(instances.EnumerateArray(), i => i.GetProperty("instanceId").GetString() == payload.GetProperty("id").GetString());
    }

    [Fact]
    public async Task HttpApi_RaiseEventAndTerminateThroughPayloadUrls()
    {
        var approvalUrls = await StartOverHttpAsync(nameof(DurableOrchestrators.Approval), 60_000);
        var foreverUrls = await StartOverHttpAsync(nameof(DurableOrchestrators.WaitsForever), 0);
        var (approval, forever) = (approvalUrls.GetProperty("id").GetString()!, foreverUrls.GetProperty("id").GetString()!);
        await Client.WaitForInstanceStartAsync(approval).WaitAsync(Patience);
        await Client.WaitForInstanceStartAsync(forever).WaitAsync(Patience);

        using var raised = await _host.Http.PostAsJsonAsync(approvalUrls.GetProperty("sendEventPostUri").GetString()!.Replace("{eventName}", "approval", StringComparison.Ordinal), "via http");
        using var terminated = await _host.Http.PostAsync(foreverUrls.GetProperty("terminatePostUri").GetString()!.Replace("{text}", "enough", StringComparison.Ordinal), null);
        var approved = await Client.WaitForInstanceCompletionAsync(approval, getInputsAndOutputs: true).WaitAsync(Patience);
        var ended = await Client.WaitForInstanceCompletionAsync(forever).WaitAsync(Patience);
        using var gone = await _host.Http.PostAsync(foreverUrls.GetProperty("terminatePostUri").GetString()!.Replace("{text}", "again", StringComparison.Ordinal), null);
        using var unknown = await _host.Http.GetAsync(approvalUrls.GetProperty("statusQueryGetUri").GetString()!.Replace(approval, "no-such-instance", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.Accepted, raised.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, terminated.StatusCode);
        Assert.Equal("approved:via http", approved.ReadOutputAs<string>());
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, ended.RuntimeStatus);
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task StatusUrl_SavedBeforeARestart_StillOpensAfterIt()
    {
        await _host.DisposeAsync();
        _host = await StartHostAsync(durableKey: string.Empty);
        var statusUrl = (await StartOverHttpAsync(nameof(DurableOrchestrators.WaitsForever), 0)).GetProperty("statusQueryGetUri").GetString()!;
        await _host.DisposeAsync();

        _host = await StartHostAsync(durableKey: string.Empty);
        using var status = await _host.Http.GetAsync(RebasedOn(statusUrl, _host.Http.BaseAddress!));

        Assert.Equal(HttpStatusCode.Accepted, status.StatusCode);
        Assert.DoesNotContain(TestFunctionsHost.DurableKey, statusUrl, StringComparison.Ordinal);
    }

    /// <summary>The same path and query on another port (each test host listens on a free one).</summary>
    private static Uri RebasedOn(string url, Uri host) => new(host, new Uri(url).PathAndQuery);

    /// <summary>Starts an orchestration through an HTTP function, as an app does; the payload of its status URLs.</summary>
    private async Task<JsonElement> StartOverHttpAsync(string orchestrator, int input)
    {
        using var start = new HttpRequestMessage(HttpMethod.Post, $"api/orchestrators/{orchestrator}") { Content = JsonContent.Create(input) };
        start.Headers.Add("x-functions-key", TestFunctionsHost.FunctionKey);
        using var accepted = await _host.Http.SendAsync(start);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        return await accepted.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<T?> RunAsync<T>(string orchestrator, object? input = null) =>
        (await RunAsync(orchestrator, input)).ReadOutputAs<T>();

    private async Task<OrchestrationMetadata> RunAsync(string orchestrator, object? input = null)
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(orchestrator, input);
        var metadata = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true).WaitAsync(Patience);
        Assert.True(metadata.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{orchestrator} ended {metadata.RuntimeStatus}: {metadata.FailureDetails?.ErrorMessage}");
        return metadata;
    }

    private async Task WaitForStatusAsync(string id, OrchestrationRuntimeStatus status) =>
        await Eventually.PollAsync(async () => (await Client.GetInstanceAsync(id))!.RuntimeStatus, s => s == status, Patience, $"status {status}");

    private Task<TestFunctionsHost> StartHostAsync(string? durableKey = TestFunctionsHost.DurableKey) =>
        TestFunctionsHost.StartAsync(
            [typeof(DurableOrchestrators), typeof(DurableActivities)],
            new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = azurite.ConnectionString,
                ["AzureFunctionsJobHost:extensions:durableTask:hubName"] = _hub,
                ["LocalHost:Durable:MaxQueuePollingInterval"] = "00:00:00.500",
                ["LocalHost:Keys:DurableTaskExtension"] = durableKey,
                ["LocalHost:HostId"] = _hub.ToLowerInvariant(),
            },
            builder =>
            {
                builder.Services.AddSingleton(_runs);

                // camelCase, as most apps set it (the worker's default keeps .NET names: "StatusQueryGetUri").
                builder.Services.Configure<JsonSerializerOptions>(o => o.PropertyNamingPolicy = JsonNamingPolicy.CamelCase);
            });
}
