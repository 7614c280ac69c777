namespace Syscalls.Fixture;

/// <summary>One method in every build; one more only where FIXTURE_FULL_API is defined (the reference build).</summary>
public static class Api
{
    public static int Everywhere() => 1;

#if FIXTURE_FULL_API
    public static int OnlyInTheReference() => 2;
#endif
}
