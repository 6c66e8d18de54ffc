using Serverless.LocalHost.Hosting;

namespace Serverless.LocalHost.Tests;

public sealed class LocalConfigurationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("local-settings-").FullName;

    [Fact]
    public void ReadLocalSettings_Values_DoubleUnderscoreBecomesSectionSeparator()
    {
        var path = Write("""
            {
              "IsEncrypted": false,
              "Values": { "AzureWebJobsStorage": "UseDevelopmentStorage=true", "Pipeline__ScoringOutputContainer": "out", "Flag": true },
              "ConnectionStrings": { "Db": "x" },
              "Host": { "LocalHttpPort": 7080 }
            }
            """);

        var settings = LocalConfiguration.ReadLocalSettings(path);

        Assert.Equal("UseDevelopmentStorage=true", settings["AzureWebJobsStorage"]);
        Assert.Equal("out", settings["Pipeline:ScoringOutputContainer"]);
        Assert.Equal("true", settings["Flag"]);
        Assert.Equal("x", settings["ConnectionStrings:Db"]);
        Assert.Equal("7080", settings["LocalHost:Http:Port"]);
    }

    [Fact]
    public void ReadLocalSettings_Encrypted_RefusesWithHowToDecrypt()
    {
        var path = Write("""{ "IsEncrypted": true, "Values": {} }""");

        var error = Assert.Throws<InvalidOperationException>(() => LocalConfiguration.ReadLocalSettings(path));

        Assert.Contains("func settings decrypt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadLocalSettings_BrokenJson_NamesFileAndLine()
    {
        var path = Write("{\n  \"Values\": {\n    \"A\": \n  }\n}");

        var error = Assert.Throws<InvalidOperationException>(() => LocalConfiguration.ReadLocalSettings(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("line", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadHostJson_Nested_FlattenedUnderAzureFunctionsJobHost()
    {
        var path = Write("""{ "version": "2.0", "extensions": { "http": { "routePrefix": "v1" } } }""");

        var settings = LocalConfiguration.ReadHostJson(path);

        Assert.Equal("v1", settings["AzureFunctionsJobHost:extensions:http:routePrefix"]);
        Assert.Equal("2.0", settings["AzureFunctionsJobHost:version"]);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string json)
    {
        var path = Path.Combine(_directory, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }
}
