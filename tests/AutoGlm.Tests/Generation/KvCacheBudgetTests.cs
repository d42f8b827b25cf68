using AutoGlm.Generation;

namespace AutoGlm.Tests.Generation;

public sealed class KvCacheBudgetTests
{
    [Fact]
    public void TryReserve_UpToCapacity_SucceedsThenRefusesUntilReleased()
    {
        var budget = new KvCacheBudget(100);

        Assert.True(budget.TryReserve(60));
        Assert.False(budget.TryReserve(41));
        Assert.True(budget.TryReserve(40));
        Assert.Equal(100, budget.TokensInUse);
        budget.Release(60);
        Assert.Equal(40, budget.TokensInUse);
        Assert.True(budget.TryReserve(60));
    }

    [Fact]
    public void CanEverFit_MoreThanCapacity_IsFalse()
    {
        var budget = new KvCacheBudget(100);
        Assert.True(budget.CanEverFit(100));
        Assert.False(budget.CanEverFit(101));
    }

    [Fact]
    public void Release_MoreThanReserved_ThrowsAndKeepsTheCount()
    {
        var budget = new KvCacheBudget(100);
        Assert.True(budget.TryReserve(10));

        var error = Assert.Throws<InvalidOperationException>(() => budget.Release(11));

        Assert.Equal("Released 11 KV positions but only 10 were reserved; a sequence was retired twice.", error.Message);
        Assert.Equal(10, budget.TokensInUse);
    }

    [Fact]
    public void Constructor_ZeroCapacity_ThrowsQuotingTheValue()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new KvCacheBudget(0));
        Assert.StartsWith("The KV budget must be at least 1 token; got 0.", error.Message);
    }
}
