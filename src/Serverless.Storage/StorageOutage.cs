using System.Net.Sockets;
using Azure;

namespace Serverless.Storage;

/// <summary>
/// Tells a storage outage (the account cannot be reached, or answers that it is busy) from an error of the request
/// itself. An outage is worth a 503 and a retry; anything else is the caller's or the app's fault.
/// </summary>
public static class StorageOutage
{
    /// <summary>Seconds a client is asked to wait before it tries again (<c>Retry-After</c>).</summary>
    public const int RetryAfterSeconds = 10;

    /// <summary>What a caller is told while storage cannot be reached: no address, no internals.</summary>
    public const string Detail =
        "Storage is unreachable, so the request could not be served; nothing was changed. Try again in a few seconds.";

    /// <summary>
    /// True when <paramref name="exception"/>, or an exception inside it, says storage did not answer: no response at
    /// all (the Azure SDK's status 0, a refused or reset connection, after its retries: an
    /// <see cref="AggregateException"/>) or 503 Server Busy.
    /// </summary>
    public static bool IsOutage(Exception? exception)
    {
        for (var depth = 0; exception is not null && depth < 16; depth++)
        {
            switch (exception)
            {
                case RequestFailedException { Status: 0 or 503 }:
                case SocketException:
                case HttpRequestException { StatusCode: null }:
                    return true;
                case RequestFailedException:
                    return false;
                case AggregateException aggregate:
                    return aggregate.InnerExceptions.Any(IsOutage);
            }

            exception = exception.InnerException;
        }

        return false;
    }
}
