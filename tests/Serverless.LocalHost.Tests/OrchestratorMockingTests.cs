using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Moq;
using Moq.Protected;
using Serverless.LocalHost.Tests.Functions;

namespace Serverless.LocalHost.Tests;

/// <summary>The official unit-test style compiles and works against this SDK surface: a mocked context, no engine.</summary>
public sealed class OrchestratorMockingTests
{
    [Fact]
    public async Task Chain_MockedContext_CallsEchoFiveTimesInOrder()
    {
        var context = new Mock<TaskOrchestrationContext> { CallBase = true };
        var calls = new List<object?>();
        context.Setup(c => c.CallActivityAsync<int>(nameof(DurableActivities.Echo), It.IsAny<int>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((_, input, _) => calls.Add(input))
            .ReturnsAsync((TaskName _, object? input, TaskOptions? _) => (int)input! * 2);
        context.Protected().Setup<ILoggerFactory>("LoggerFactory").Returns(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);

        var total = await DurableOrchestrators.Chain(context.Object);

        Assert.Equal(30, total);
        Assert.Equal([1, 2, 3, 4, 5], calls.Cast<int>());
        Assert.NotNull(context.Object.CreateReplaySafeLogger("test"));
    }
}
