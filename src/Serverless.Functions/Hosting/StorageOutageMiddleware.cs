using System.Globalization;
using System.Net;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;
using Serverless.Functions.Triggers.Http;
using Serverless.Storage;

namespace Serverless.Functions.Hosting;

/// <summary>
/// Answers an HTTP request that failed because storage could not be reached with 503, a <c>Retry-After</c> and a
/// problem body that says so, instead of the host's empty 500. Other triggers, and other failures, pass through.
/// </summary>
internal sealed partial class StorageOutageMiddleware(ILogger<StorageOutageMiddleware> logger) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (StorageOutage.IsOutage(ex) && IsHttp(context))
        {
            var request = await context.GetHttpRequestDataAsync() ?? throw new InvalidOperationException("An HTTP invocation without its request.", ex);
            StorageUnreachable(logger, context.FunctionDefinition.Name, ex.GetBaseException().Message);
            var response = await HttpAnswers.ProblemAsync(request, HttpStatusCode.ServiceUnavailable, StorageOutage.Detail, CancellationToken.None);
            response.Headers.Add("Retry-After", StorageOutage.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture));
            context.GetInvocationResult().Value = response;
        }
    }

    private static bool IsHttp(FunctionContext context) =>
        context.FunctionDefinition.InputBindings.Values.Any(b => string.Equals(b.Type, "httpTrigger", StringComparison.OrdinalIgnoreCase));

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "{Function}: storage is unreachable, answered 503 ({Reason})")]
    private static partial void StorageUnreachable(ILogger logger, string function, string reason);
}
