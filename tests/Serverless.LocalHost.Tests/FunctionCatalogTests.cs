using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Serverless.LocalHost.Hosting;
using Serverless.LocalHost.Invocation;
using Serverless.LocalHost.Tests.Functions;

namespace Serverless.LocalHost.Tests;

public sealed class FunctionCatalogTests
{
    [Fact]
    public void Constructor_ValidFunctions_FindsEachWithItsBindingType()
    {
        var catalog = Build([typeof(HttpFunctions), typeof(BlobFunctions), typeof(TimerFunctions)]);

        Assert.Equal("httpTrigger", catalog.Find("GetItem")!.BindingType);
        Assert.Equal("blobTrigger", catalog.Find("OnBlob")!.BindingType);
        Assert.Equal("timerTrigger", catalog.Find("EverySecond")!.BindingType);
        Assert.Equal("Host.Functions.GetItem", catalog.Find("getitem")!.Id);
        Assert.Equal(6, catalog.WithTrigger<HttpTriggerAttribute>().Count());
    }

    [Fact]
    public void Constructor_DuplicateName_NamesBothMethods()
    {
        var error = Assert.Throws<FunctionIndexingException>(() => Build([typeof(Duplicates)]));

        Assert.Contains("'same'", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Duplicates.A", error.Message, StringComparison.Ordinal);
        Assert.Contains("Duplicates.B", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NoTrigger_NamesTheFunction()
    {
        var error = Assert.Throws<FunctionIndexingException>(() => Build([typeof(NoTrigger)]));

        Assert.Contains("Function 'Lonely'", error.Message, StringComparison.Ordinal);
        Assert.Contains("exactly one trigger", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_UnbindableParameter_NamesFunctionParameterAndWhatIsKnown()
    {
        var error = Assert.Throws<FunctionIndexingException>(() => Build([typeof(Unbindable)]));

        Assert.Contains("Function 'Odd', parameter 'mystery'", error.Message, StringComparison.Ordinal);
        Assert.Contains("here: id", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_WrongTriggerType_ListsTheTypesThatWork()
    {
        var error = Assert.Throws<FunctionIndexingException>(() => Build([typeof(WrongTriggerType)]));

        Assert.Contains("Function 'Wrong', parameter 'info'", error.Message, StringComparison.Ordinal);
        Assert.Contains("TimerInfo", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_BadCron_NamesFunctionAndExpression()
    {
        var error = Assert.Throws<FunctionIndexingException>(() => Build([typeof(BadCron)]));

        Assert.Contains("Function 'Cron'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'* * * *'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_MissingSetting_NamesFunctionAndSetting()
    {
        var error = Assert.Throws<FunctionIndexingException>(() => Build([typeof(BlobFunctions)], settings: []));

        Assert.Contains("Function 'OnBlob'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'TestContainer'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_UnsupportedInputBinding_NamesTheBinding()
    {
        var error = Assert.Throws<FunctionIndexingException>(() => Build([typeof(UnsupportedBinding)]));

        Assert.Contains("[FakeInputAttribute] is not supported", error.Message, StringComparison.Ordinal);
    }

    private static FunctionCatalog Build(Type[] types, Dictionary<string, string?>? settings = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings ?? new Dictionary<string, string?> { ["TestContainer"] = "test-container" })
            .Build();
        var options = new LocalHostOptions();
        foreach (var type in types)
        {
            options.FunctionTypes.Add(type);
        }

        return new FunctionCatalog(Options.Create(options), [TriggerKind.Http(), TriggerKind.Blob(configuration), TriggerKind.Timer(configuration)], []);
    }

    public sealed class Duplicates
    {
        [Function("Same")]
        public static void A([TimerTrigger("0 0 * * * *")] TimerInfo timer)
        {
        }

        [Function("same")]
        public static void B([TimerTrigger("0 0 * * * *")] TimerInfo timer)
        {
        }
    }

    public sealed class NoTrigger
    {
        [Function("Lonely")]
        public static void Run(string input)
        {
        }
    }

    public sealed class Unbindable
    {
        [Function("Odd")]
        public static void Run([HttpTrigger(AuthorizationLevel.Function, "get", Route = "odd/{id}")] HttpRequestData request, string id, Uri mystery)
        {
        }
    }

    public sealed class WrongTriggerType
    {
        [Function("Wrong")]
        public static void Run([TimerTrigger("0 0 * * * *")] string info)
        {
        }
    }

    public sealed class BadCron
    {
        [Function("Cron")]
        public static void Run([TimerTrigger("* * * *")] TimerInfo timer)
        {
        }
    }

    [AttributeUsage(AttributeTargets.Parameter)]
    public sealed class FakeInputAttribute : Microsoft.Azure.Functions.Worker.Extensions.Abstractions.InputBindingAttribute
    {
    }

    public sealed class UnsupportedBinding
    {
        [Function("Unsupported")]
        public static void Run([TimerTrigger("0 0 * * * *")] TimerInfo timer, [FakeInput] string value)
        {
        }
    }
}
