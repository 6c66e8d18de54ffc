using Microsoft.Azure.Functions.Worker;
using Serverless.LocalHost.Invocation;
using Serverless.Testing;

namespace Serverless.LocalHost.Tests;

public sealed class StartupTests
{
    [Fact]
    public async Task StartAsync_TimerSettingMissing_FailsFastNamingFunctionAndSetting()
    {
        var error = await Assert.ThrowsAsync<FunctionIndexingException>(() => TestFunctionsHost.StartAsync([typeof(NeedsSetting)]));

        Assert.Contains("Function 'NeedsSetting'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'NotSetAnywhere'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_InvalidOption_FailsNamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TestFunctionsHost.StartAsync([], new Dictionary<string, string?> { ["LocalHost:HostId"] = "Not Valid!" }));

        Assert.Contains("LocalHost:HostId", error.Message, StringComparison.Ordinal);
    }

    public sealed class NeedsSetting
    {
        [Function(nameof(NeedsSetting))]
        public static void Run([TimerTrigger("%NotSetAnywhere%")] TimerInfo timer)
        {
        }
    }
}
