using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.LocalHost.Hosting;
using Serverless.LocalHost.Http;
using Serverless.Storage;
using Serverless.Testing;

namespace Serverless.LocalHost.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class FunctionKeysTests(AzuriteFixture azurite)
{
    private readonly string _hostId = $"keys-{Guid.NewGuid():N}"[..20];

    [Theory]
    [InlineData(AuthorizationLevel.Anonymous, null, true)]
    [InlineData(AuthorizationLevel.Function, null, false)]
    [InlineData(AuthorizationLevel.Function, "function", true)]
    [InlineData(AuthorizationLevel.Function, "master", true)]
    [InlineData(AuthorizationLevel.Function, "Function", false)]
    [InlineData(AuthorizationLevel.User, "function", true)]
    [InlineData(AuthorizationLevel.Admin, "function", false)]
    [InlineData(AuthorizationLevel.Admin, "master", true)]
    [InlineData(AuthorizationLevel.System, "function", false)]
    public async Task IsAuthorized_KeyInHeader_OpensOnlyItsLevels(AuthorizationLevel level, string? key, bool expected)
    {
        var keys = await LoadAsync(new FunctionKeyOptions { Master = "master", Function = "function", DurableTaskExtension = "durable", BlobsExtension = "blobs" });
        var context = new DefaultHttpContext();
        if (key is not null)
        {
            context.Request.Headers[FunctionKeys.HeaderName] = key;
        }

        Assert.Equal(expected, keys.IsAuthorized(context.Request, level));
    }

    [Fact]
    public async Task IsAuthorizedForExtension_SystemKeyOrMaster_OnlyForItsExtension()
    {
        var keys = await LoadAsync(new FunctionKeyOptions { Master = "master", Function = "function", DurableTaskExtension = "durable", BlobsExtension = "blobs" });

        Assert.True(keys.IsAuthorizedForExtension(Request("?code=durable"), FunctionKeys.DurableTaskExtension));
        Assert.True(keys.IsAuthorizedForExtension(Request("?code=master"), FunctionKeys.DurableTaskExtension));
        Assert.False(keys.IsAuthorizedForExtension(Request("?code=blobs"), FunctionKeys.DurableTaskExtension));
        Assert.False(keys.IsAuthorizedForExtension(Request("?code=function"), FunctionKeys.DurableTaskExtension));
    }

    [Fact]
    public async Task LoadAsync_NoKeysConfigured_GeneratedOnceKeptInStorageAndSameAfterRestart()
    {
        var first = await LoadAsync(new FunctionKeyOptions());
        var afterRestart = await LoadAsync(new FunctionKeyOptions());
        var secrets = await Blob().DownloadContentAsync();

        Assert.True(first.Master.Length >= 40 && first.Function.Length >= 40);
        Assert.Equal(4, new[] { first.Master, first.Function, first.SystemKey(FunctionKeys.DurableTaskExtension), first.SystemKey(FunctionKeys.BlobsExtension) }.Distinct().Count());
        Assert.Equal((first.Master, first.Function), (afterRestart.Master, afterRestart.Function));
        Assert.Equal(first.SystemKey(FunctionKeys.DurableTaskExtension), afterRestart.SystemKey(FunctionKeys.DurableTaskExtension));
        Assert.Contains(first.Function, secrets.Value.Content.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadAsync_TwoHostsStartingAtOnce_AgreeOnOneSetOfKeys()
    {
        var keys = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => LoadAsync(new FunctionKeyOptions())));

        Assert.Single(keys.Select(k => k.Master).Distinct());
        Assert.Single(keys.Select(k => k.SystemKey(FunctionKeys.DurableTaskExtension)).Distinct());
    }

    [Fact]
    public async Task LoadAsync_FunctionKeyInSettings_WinsOverStoredOneOthersStillStored()
    {
        var stored = await LoadAsync(new FunctionKeyOptions());
        var configured = await LoadAsync(new FunctionKeyOptions { Function = "mine" });

        Assert.Equal("mine", configured.Function);
        Assert.Equal(stored.Master, configured.Master);
    }

    private BlobClient Blob() =>
        new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(FunctionKeys.SecretsContainer).GetBlobClient($"{_hostId}/host.json");

    private async Task<FunctionKeys> LoadAsync(FunctionKeyOptions keyOptions)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [StorageClientFactory.DefaultConnectionName] = azurite.ConnectionString })
            .Build();
        var services = new ServiceCollection();
        services.AddAzureClientsCore();
        var clients = new StorageClientFactory(configuration, services.BuildServiceProvider().GetRequiredService<AzureComponentFactory>());
        var options = Options.Create(new LocalHostOptions { HostId = _hostId, Keys = keyOptions });
        var keys = new FunctionKeys(clients, new HostStorage(clients, options), options, NullLogger<FunctionKeys>.Instance);
        await keys.LoadAsync(CancellationToken.None);
        return keys;
    }

    private static HttpRequest Request(string query)
    {
        var context = new DefaultHttpContext();
        context.Request.QueryString = new QueryString(query);
        return context.Request;
    }
}
