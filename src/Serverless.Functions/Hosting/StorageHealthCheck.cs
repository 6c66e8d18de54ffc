using Microsoft.Extensions.Diagnostics.HealthChecks;
using Serverless.Storage;

namespace Serverless.Functions.Hosting;

/// <summary>Healthy when the app's storage account (<c>AzureWebJobsStorage</c>) answers within five seconds.</summary>
internal sealed class StorageHealthCheck(StorageClientFactory clients) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            var blobs = clients.GetBlobServiceClient();
            await foreach (var _ in blobs.GetBlobContainersAsync(cancellationToken: timeout.Token).AsPages(pageSizeHint: 1))
            {
                break;
            }

            return HealthCheckResult.Healthy($"Blob service {blobs.Uri.GetLeftPart(UriPartial.Authority)} answered.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"Storage did not answer within {Timeout.TotalSeconds:0} s.");
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or StorageConnectionException or AggregateException or HttpRequestException)
        {
            return HealthCheckResult.Unhealthy($"Storage is not reachable: {ex.Message}");
        }
    }
}
