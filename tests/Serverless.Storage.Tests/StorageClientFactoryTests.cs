using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Serverless.Storage.Tests;

public sealed class StorageClientFactoryTests
{
    [Fact]
    public void GetBlobServiceClient_DevelopmentStorage_PointsAtAzurite()
    {
        var factory = Create(new() { ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true" });

        var client = factory.GetBlobServiceClient();

        Assert.Equal("http://127.0.0.1:10000/devstoreaccount1", client.Uri.ToString().TrimEnd('/'));
        Assert.Same(client, factory.GetBlobServiceClient("azurewebjobsstorage"));
    }

    [Fact]
    public void GetClients_IdentityBasedServiceUris_UseEachServiceUri()
    {
        var factory = Create(new()
        {
            ["Data:blobServiceUri"] = "https://acct.blob.core.windows.net",
            ["Data:queueServiceUri"] = "https://acct.queue.core.windows.net",
            ["Data:tableServiceUri"] = "https://acct.table.core.windows.net",
            ["Data:credential"] = "managedidentity",
            ["Data:clientId"] = "00000000-0000-0000-0000-000000000001",
        });

        Assert.Equal("https://acct.blob.core.windows.net/", factory.GetBlobServiceClient("Data").Uri.ToString());
        Assert.Equal("https://acct.queue.core.windows.net/", factory.GetQueueServiceClient("Data").Uri.ToString());
        Assert.Equal("https://acct.table.core.windows.net/", factory.GetTableServiceClient("Data").Uri.ToString());
    }

    [Fact]
    public void GetBlobServiceClient_AccountNameOnly_DerivesThePublicEndpoint()
    {
        var factory = Create(new() { ["Data:accountName"] = "acct", ["Data:credential"] = "managedidentity" });

        Assert.Equal("https://acct.blob.core.windows.net/", factory.GetBlobServiceClient("Data").Uri.ToString());
    }

    [Fact]
    public void GetBlobServiceClient_NotConfigured_NamesTheSettingsToSet()
    {
        var factory = Create([]);

        var error = Assert.Throws<StorageConnectionException>(() => factory.GetBlobServiceClient("Missing"));

        Assert.Equal("Missing", error.ConnectionName);
        Assert.Contains("'Missing__blobServiceUri'", error.Message, StringComparison.Ordinal);
        Assert.False(factory.IsConfigured("Missing"));
    }

    [Fact]
    public void GetBlobServiceClient_MalformedConnectionString_NamesTheSetting()
    {
        var factory = Create(new() { ["Broken"] = "this is not a connection string" });

        var error = Assert.Throws<StorageConnectionException>(() => factory.GetBlobServiceClient("Broken"));

        Assert.Contains("'Broken'", error.Message, StringComparison.Ordinal);
    }

    private static StorageClientFactory Create(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddStorageClients().BuildServiceProvider();
        return services.GetRequiredService<StorageClientFactory>();
    }
}

public sealed class BlobNameRulesTests
{
    [Theory]
    [InlineData("data.csv", true)]
    [InlineData("2026/11/data.csv", true)]
    [InlineData("with space/ünïcode.csv", true)]
    [InlineData("../escape.csv", false)]
    [InlineData("a/../b.csv", false)]
    [InlineData("a/./b.csv", false)]
    [InlineData("/rooted.csv", false)]
    [InlineData("back\\slash.csv", false)]
    [InlineData("line\nbreak.csv", false)]
    [InlineData("", false)]
    public void IsSafeBlobName_PathTricks_Rejected(string name, bool expected) =>
        Assert.Equal(expected, BlobNameRules.IsSafeBlobName(name));

    [Theory]
    [InlineData("score-in", true)]
    [InlineData("abc", true)]
    [InlineData("ab", false)]
    [InlineData("Score-In", false)]
    [InlineData("a--b", false)]
    [InlineData("-abc", false)]
    public void IsValidContainerName_AzureRules(string name, bool expected) =>
        Assert.Equal(expected, BlobNameRules.IsValidContainerName(name));
}
