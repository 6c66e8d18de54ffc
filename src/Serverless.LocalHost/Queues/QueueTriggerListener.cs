using System.Text.RegularExpressions;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.LocalHost.Hosting;
using Serverless.LocalHost.Invocation;
using Serverless.Storage;

namespace Serverless.LocalHost.Queues;

/// <summary>
/// Runs queue-triggered functions as the Functions host's queue listener does: messages are taken hidden (and kept
/// hidden while their function runs), deleted when it succeeds, made visible again when it fails, and moved to
/// <c>{queue}-poison</c> after <see cref="QueueTriggerOptions.MaxDequeueCount"/> deliveries. Deliveries are counted by
/// the queue, so a message whose function kills the process is counted too, and cannot come back forever.
/// </summary>
internal sealed partial class QueueTriggerListener(
    FunctionCatalog catalog,
    FunctionInvoker invoker,
    StorageClientFactory clients,
    IConfiguration configuration,
    IOptions<LocalHostOptions> options,
    IOptions<WorkerOptions> worker,
    ILogger<QueueTriggerListener> logger) : BackgroundService
{
    /// <summary>The binding data of a queue trigger, under the host's names.</summary>
    public static readonly string[] BindingDataNames = ["QueueTrigger", "Id", "DequeueCount", "InsertionTime", "ExpirationTime", "NextVisibleTime", "PopReceipt"];

    /// <summary>The queue a trigger names (<c>%Setting%</c> resolved, lower case), checked against the service's rules.</summary>
    public static string QueueName(IConfiguration configuration, QueueTriggerAttribute trigger, string functionName)
    {
        var name = AppSettings.Resolve(configuration, trigger.QueueName, $"Function '{functionName}', queue name").ToLowerInvariant();
        return ValidQueueName().IsMatch(name) && !name.Contains("--", StringComparison.Ordinal)
            ? name
            : throw new InvalidOperationException($"'{name}' is not a queue name: 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit.");
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(catalog.WithTrigger<QueueTriggerAttribute>().Select(f => ListenAsync(f, stoppingToken)));

    private async Task ListenAsync(FunctionDescriptor function, CancellationToken stoppingToken)
    {
        var settings = options.Value.Queues;
        var trigger = function.TriggerAs<QueueTriggerAttribute>();
        var name = QueueName(configuration, trigger, function.Name);
        var service = clients.GetQueueServiceClient(trigger.Connection);
        var queue = service.GetQueueClient(name);
        var poison = service.GetQueueClient($"{name}-poison");
        Log.QueueWatching(logger, name, function.Name, settings.PollInterval);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await queue.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
                var messages = (await queue.ReceiveMessagesAsync(settings.BatchSize, settings.VisibilityTimeout, stoppingToken)).Value;
                if (messages.Length > 0)
                {
                    await Task.WhenAll(messages.Select(m => ProcessAsync(function, queue, poison, m, stoppingToken)));
                    continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is RequestFailedException || StorageOutage.IsOutage(ex))
            {
                Log.QueuePollFailed(logger, name, function.Name, ex.Message);
            }

            try
            {
                await Task.Delay(settings.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task ProcessAsync(FunctionDescriptor function, QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken stoppingToken)
    {
        var settings = options.Value.Queues;
        try
        {
            if (message.DequeueCount > settings.MaxDequeueCount)
            {
                // Delivered more often than allowed: the runs before ended without an outcome (the process died).
                await PoisonAsync(function, queue, poison, message, message.PopReceipt, stoppingToken);
                return;
            }

            Log.QueueTriggered(logger, queue.Name, message.MessageId, function.Name, message.DequeueCount, settings.MaxDequeueCount);
            var hidden = new HiddenMessage(queue, message, settings.VisibilityTimeout, stoppingToken);
            var succeeded = await InvokeAsync(function, message, stoppingToken);
            var receipt = await hidden.StopAsync();
            if (succeeded)
            {
                await queue.DeleteMessageAsync(message.MessageId, receipt, stoppingToken);
            }
            else if (message.DequeueCount >= settings.MaxDequeueCount)
            {
                await PoisonAsync(function, queue, poison, message, receipt, stoppingToken);
            }
            else
            {
                // Visible again at once, as host.json's queues.visibilityTimeout (0) has it.
                await queue.UpdateMessageAsync(message.MessageId, receipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The message comes back when its visibility lapses, to this host or the next.
        }
        catch (Exception ex) when (ex is RequestFailedException || StorageOutage.IsOutage(ex))
        {
            Log.QueuePollFailed(logger, queue.Name, function.Name, ex.Message);
        }
    }

    private async Task<bool> InvokeAsync(FunctionDescriptor function, QueueMessage message, CancellationToken stoppingToken)
    {
        var bindingData = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
        {
            ["QueueTrigger"] = message.Body.ToString(),
            ["Id"] = message.MessageId,
            ["DequeueCount"] = message.DequeueCount,
            ["InsertionTime"] = message.InsertedOn,
            ["ExpirationTime"] = message.ExpiresOn,
            ["NextVisibleTime"] = message.NextVisibleOn,
            ["PopReceipt"] = message.PopReceipt,
        };
        var request = new InvocationRequest(
            _ => ValueTask.FromResult(Bind(function.TriggerParameter.ParameterType, message)),
            bindingData,
            RetryCount: (int)message.DequeueCount - 1,
            MaxRetryCount: options.Value.Queues.MaxDequeueCount - 1);
        try
        {
            await invoker.InvokeAsync(function, request, stoppingToken);
            return true;
        }
        catch (FunctionInvocationException)
        {
            // Logged by the invoker.
            return false;
        }
    }

    private object? Bind(Type type, QueueMessage message) =>
        type == typeof(QueueMessage) ? message
        : type == typeof(string) ? message.Body.ToString()
        : type == typeof(BinaryData) ? message.Body
        : type == typeof(byte[]) ? message.Body.ToArray()
        : worker.Value.Serializer!.Deserialize(message.Body.ToStream(), type, CancellationToken.None);

    private async Task PoisonAsync(
        FunctionDescriptor function,
        QueueClient queue,
        QueueClient poison,
        QueueMessage message,
        string receipt,
        CancellationToken stoppingToken)
    {
        await poison.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
        await poison.SendMessageAsync(message.Body, cancellationToken: stoppingToken);
        await queue.DeleteMessageAsync(message.MessageId, receipt, stoppingToken);
        Log.QueuePoisoned(logger, queue.Name, message.MessageId, function.Name, message.DequeueCount, poison.Name);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidQueueName();

    /// <summary>Keeps a taken message hidden while its function runs, renewing at half the visibility timeout.</summary>
    private sealed class HiddenMessage
    {
        private readonly CancellationTokenSource _done;
        private readonly Task _renewing;
        private string _receipt;

        public HiddenMessage(QueueClient queue, QueueMessage message, TimeSpan visibility, CancellationToken stoppingToken)
        {
            _receipt = message.PopReceipt;
            _done = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            _renewing = RenewAsync(queue, message.MessageId, visibility, _done.Token);
        }

        /// <summary>Stops renewing; the receipt the message holds now.</summary>
        public async Task<string> StopAsync()
        {
            await _done.CancelAsync();
            await _renewing;
            _done.Dispose();
            return _receipt;
        }

        private async Task RenewAsync(QueueClient queue, string id, TimeSpan visibility, CancellationToken done)
        {
            try
            {
                while (true)
                {
                    await Task.Delay(visibility / 2, done);
                    _receipt = (await queue.UpdateMessageAsync(id, _receipt, visibilityTimeout: visibility, cancellationToken: done)).Value.PopReceipt;
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception ex) when (ex is RequestFailedException || StorageOutage.IsOutage(ex))
            {
                // The message may come back before its function ends; the function must be idempotent, as in Azure.
            }
        }
    }
}
