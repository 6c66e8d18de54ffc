using System.Net.Sockets;
using Azure;

namespace Serverless.Storage.Tests;

public sealed class StorageOutageTests
{
    public static TheoryData<Exception, bool> Cases => new()
    {
        { new RequestFailedException(0, "Connection refused (127.0.0.1:10000)"), true },
        { new RequestFailedException(503, "Server busy"), true },
        { new AggregateException("Retry failed after 4 tries.", new RequestFailedException(0, "refused"), new RequestFailedException(0, "refused")), true },
        { new InvalidOperationException("An error occurred while communicating with Azure Storage", new AggregateException(new HttpRequestException("refused", new SocketException(111)))), true },
        { new RequestFailedException(404, "The specified blob does not exist."), false },
        { new RequestFailedException(412, "Condition not met", new SocketException(111)), false },
        { new InvalidOperationException("not storage"), false },
        { new HttpRequestException("Bad request", null, System.Net.HttpStatusCode.BadRequest), false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void IsOutage_ExceptionShape_TellsUnreachableFromRequestErrors(Exception exception, bool expected) =>
        Assert.Equal(expected, StorageOutage.IsOutage(exception));
}
