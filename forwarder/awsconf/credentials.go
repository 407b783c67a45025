package awsconf

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Credential sources, as found in aws.Credentials.Source of what the chain
// returns.
const (
	SourceSTSSessionToken = "flags_session_token"
	SourceAssumeRole      = "sts_assume_role"
	SourceFlags           = "flags"
	SourceProfile         = "profile"
	SourceEnv             = "env"
	SourceWebIdentity     = "env_web_identity"
	SourceDefaultProfile  = "default_profile"
	SourceIMDS            = "ec2_instance_metadata"
)

// errSkip marks a provider that has nothing to offer; the chain moves on.
var errSkip = errors.New("not configured")

// step is one provider of the chain.
type step struct {
	name string
	p    aws.CredentialsProvider
	// final stops the chain when this configured provider fails instead of
	// falling through to weaker credentials.
	final bool
}

// chain tries its steps in order and returns the first credentials with a
// key id and a secret, with their expiry. It is not safe for concurrent use
// by itself; Load wraps it in one aws.CredentialsCache, which serialises
// refreshes and calls the chain again shortly before the credentials expire
// (STS, web identity, instance metadata) or when invalidated.
type chain struct {
	steps []step
}

func (c *chain) Retrieve(ctx context.Context) (aws.Credentials, error) {
	var errs []error
	for _, s := range c.steps {
		v, err := s.p.Retrieve(ctx)
		if err == nil && v.HasKeys() {
			v.Source = s.name
			return v, nil
		}
		if err == nil {
			err = errors.New("empty credentials")
		}
		if s.final {
			return aws.Credentials{}, fmt.Errorf("%s credentials: %w", s.name, err)
		}
		if !errors.Is(err, errSkip) {
			errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
		}
	}
	if len(errs) == 0 {
		return aws.Credentials{}, errors.New("no AWS credentials: set --aws_access_key_id/--aws_secret_access_key, --aws_profile_name, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a default profile, or run on EC2 with an instance profile")
	}
	return aws.Credentials{}, fmt.Errorf("no AWS credentials: %w", errors.Join(errs...))
}

type providerFunc func(context.Context) (aws.Credentials, error)

func (f providerFunc) Retrieve(ctx context.Context) (aws.Credentials, error) { return f(ctx) }

func static(id, secret, token, source string) aws.CredentialsProvider {
	return providerFunc(func(context.Context) (aws.Credentials, error) {
		if id == "" || secret == "" {
			return aws.Credentials{}, errSkip
		}
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: token, Source: source}, nil
	})
}

// profileProvider returns the credentials of a shared-file profile: static
// keys as osquery reads them, and (beyond osquery) whatever else the SDK
// resolves for a profile that names role_arn/source_profile,
// credential_process, SSO or a web identity token file.
type profileProvider struct {
	name, source string
	s            settings
	mu           sync.Mutex
	delegate     aws.CredentialsProvider
}

func (p *profileProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	sc, err := config.LoadSharedConfigProfile(ctx, p.name, func(o *config.LoadSharedConfigOptions) {
		o.CredentialsFiles = []string{p.s.credFile}
		o.ConfigFiles = []string{p.s.configFile}
	})
	if err != nil {
		var nf config.SharedConfigProfileNotExistError
		if errors.As(err, &nf) {
			return aws.Credentials{}, fmt.Errorf("profile %q: %w", p.name, errSkip)
		}
		return aws.Credentials{}, fmt.Errorf("profile %q: %w", p.name, err)
	}
	if sc.Credentials.HasKeys() {
		v := sc.Credentials
		v.Source = p.source
		return v, nil
	}
	if sc.RoleARN == "" && sc.CredentialProcess == "" && sc.SSOAccountID == "" && sc.SSOSessionName == "" &&
		sc.WebIdentityTokenFile == "" && sc.CredentialSource == "" {
		return aws.Credentials{}, fmt.Errorf("profile %q has no credentials: %w", p.name, errSkip)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.delegate == nil {
		opts := append(p.s.loadOptions(), config.WithSharedConfigProfile(p.name))
		cfg, err := config.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return aws.Credentials{}, fmt.Errorf("profile %q: %w", p.name, err)
		}
		p.delegate = cfg.Credentials
	}
	v, err := p.delegate.Retrieve(ctx)
	if err != nil {
		return v, fmt.Errorf("profile %q: %w", p.name, err)
	}
	v.Source = p.source
	return v, nil
}

// imdsRetryer makes osquery's instance metadata schedule: attempts =
// aws_imdsv2_request_attempts, wait interval^n seconds before attempt n+1.
func imdsRetryer(f Flags) aws.Retryer {
	attempts := int(max(f.IMDSv2RequestAttempts, 1))
	interval := float64(f.IMDSv2RequestInterval)
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = attempts
		o.MaxBackoff = time.Duration(math.Pow(interval, float64(attempts))) * time.Second
		o.RateLimiter = noRateLimit
		o.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
			return time.Duration(math.Pow(interval, float64(attempt))) * time.Second, nil
		})
	})
}

// credentialChain builds osquery's provider order (§3.7):
//
//  1. STS: with aws_session_token, the static triple (no AssumeRole);
//     else with aws_sts_arn_role, AssumeRole (RoleSessionName
//     aws_sts_session_name, DurationSeconds aws_sts_timeout) signed by the
//     chain below (steps 2–7, itself cached), through an STS client in
//     aws_sts_region at aws_sts_endpoint;
//  2. the aws_access_key_id / aws_secret_access_key flags (exactly one set:
//     warning, skipped);
//  3. the aws_profile_name profile of the shared files;
//  4. the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
//     AWS_SESSION_TOKEN);
//  5. (ours) a web identity from AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
//     (EKS IRSA);
//  6. the default profile (AWS_PROFILE, else "default") of the shared files;
//  7. EC2 instance metadata (skipped with AWS_EC2_METADATA_DISABLED=true;
//     AWS_EC2_METADATA_SERVICE_ENDPOINT moves it), IMDSv2 with
//     aws_imdsv2_request_attempts / _interval, IMDSv1 fallback unless
//     aws_disable_imdsv1_fallback.
//
// Unlike osquery, a configured AssumeRole that fails is an error: the chain
// does not silently fall back to signing with the base credentials.
func credentialChain(ctx context.Context, f Flags, s settings) (aws.CredentialsProvider, error) {
	var base []step

	if (f.AccessKeyID == "") != (f.SecretAccessKey == "") {
		s.log.Warn("Cannot use AWS credentials: ID or secret missing")
	} else if f.AccessKeyID != "" {
		base = append(base, step{name: SourceFlags, p: static(f.AccessKeyID, f.SecretAccessKey, "", SourceFlags)})
	}
	if f.ProfileName != "" {
		base = append(base, step{name: SourceProfile, p: &profileProvider{
			name: f.ProfileName, source: SourceProfile, s: s,
		}})
	}
	base = append(base, step{name: SourceEnv, p: static(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"), SourceEnv)})
	if tokenFile, role := os.Getenv("AWS_WEB_IDENTITY_TOKEN_FILE"), os.Getenv("AWS_ROLE_ARN"); tokenFile != "" && role != "" {
		stsRegion, err := f.ResolveRegion("sts")
		if err != nil {
			return nil, fmt.Errorf("STS region: %w", err)
		}
		client := sts.NewFromConfig(s.config(stsRegion, aws.AnonymousCredentials{}, f.STSEndpoint), stsEndpoint(f))
		p := stscreds.NewWebIdentityRoleProvider(client, role, stscreds.IdentityTokenFile(tokenFile), func(o *stscreds.WebIdentityRoleOptions) {
			o.RoleSessionName = os.Getenv("AWS_ROLE_SESSION_NAME")
			if o.RoleSessionName == "" {
				o.RoleSessionName = f.STSSessionName
			}
		})
		base = append(base, step{name: SourceWebIdentity, p: p})
	}
	defProfile := os.Getenv("AWS_PROFILE")
	if defProfile == "" {
		defProfile = "default"
	}
	base = append(base, step{name: SourceDefaultProfile, p: &profileProvider{
		name: defProfile, source: SourceDefaultProfile, s: s,
	}})
	if !strings.EqualFold(os.Getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		fallback := aws.UnknownTernary
		if f.DisableIMDSv1Fallback {
			fallback = aws.FalseTernary
		}
		client := imds.New(imds.Options{
			// Never through a proxy (flags or HTTP_PROXY): link-local.
			// No timeout here, so the imds client's short default applies.
			HTTPClient:     awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) { t.Proxy = nil }),
			Retryer:        imdsRetryer(f),
			EnableFallback: fallback,
			Endpoint:       os.Getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT"), // "" = the standard address
		})
		base = append(base, step{name: SourceIMDS, p: ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = client })})
	}
	baseChain := &chain{steps: base}

	switch {
	case f.SessionToken != "":
		return &chain{steps: append([]step{{name: SourceSTSSessionToken, p: static(f.AccessKeyID, f.SecretAccessKey, f.SessionToken, SourceSTSSessionToken)}}, base...)}, nil
	case f.STSARNRole != "":
		stsRegion, err := f.ResolveRegion("sts")
		if err != nil {
			return nil, fmt.Errorf("STS region: %w", err)
		}
		client := sts.NewFromConfig(s.config(stsRegion, aws.NewCredentialsCache(baseChain), f.STSEndpoint), stsEndpoint(f))
		p := stscreds.NewAssumeRoleProvider(client, f.STSARNRole, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = f.STSSessionName
			o.Duration = time.Duration(f.STSTimeout) * time.Second
		})
		// Not cached here: Load wraps the whole chain in one
		// aws.CredentialsCache, so invalidating that cache (after an
		// ExpiredToken answer) really assumes the role again.
		return &chain{steps: []step{{name: SourceAssumeRole, p: sourced(p, SourceAssumeRole), final: true}}}, nil
	}
	return baseChain, nil
}

func sourced(p aws.CredentialsProvider, source string) aws.CredentialsProvider {
	return providerFunc(func(ctx context.Context) (aws.Credentials, error) {
		v, err := p.Retrieve(ctx)
		if err == nil {
			v.Source = source
		}
		return v, err
	})
}

// stsEndpoint makes aws_sts_endpoint beat AWS_ENDPOINT_URL_STS, which the
// client would otherwise prefer over the config's BaseEndpoint.
func stsEndpoint(f Flags) func(*sts.Options) {
	return func(o *sts.Options) {
		if f.STSEndpoint != "" {
			o.BaseEndpoint = aws.String(f.STSEndpoint)
		}
	}
}
