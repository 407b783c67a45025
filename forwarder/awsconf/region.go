package awsconf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/config"
)

// DefaultRegion is the region when neither flags, environment nor profile
// name one (osquery's default).
const DefaultRegion = "us-east-1"

// knownRegions is osquery's list (aws_util.cpp) plus the regions AWS opened
// since, so a valid new region is not refused. Validation only applies when
// no endpoint override is set.
var knownRegions = map[string]bool{}

func init() {
	for _, r := range []string{
		// osquery's list.
		"af-south-1", "ap-south-2", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
		"ap-south-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ca-central-1", "cn-north-1",
		"cn-northwest-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
		"eu-west-1", "eu-west-2", "eu-west-3", "me-central-1", "me-south-1", "sa-east-1", "us-east-1",
		"us-east-2", "us-gov-east-1", "us-gov-west-1", "us-west-1", "us-west-2",
		// Opened later.
		"ap-east-2", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
		"ca-west-1", "il-central-1", "mx-central-1",
	} {
		knownRegions[r] = true
	}
}

// fipsRegions are the regions osquery accepts with aws_enforce_fips.
var fipsRegions = map[string]bool{
	"us-east-1": true, "us-east-2": true, "us-gov-east-1": true,
	"us-west-1": true, "us-west-2": true, "us-gov-west-1": true,
}

// ValidRegion reports whether r is a known AWS region.
func ValidRegion(r string) bool { return knownRegions[r] }

// sharedFiles returns the shared credentials and config file paths. The
// credentials file is AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials.
// The config file is AWS_CONFIG_FILE; without it, osquery's rule: "config"
// in the credentials file's folder (which is ~/.aws/config by default).
func sharedFiles() (credFile, configFile string) {
	credFile = os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if credFile == "" {
		credFile = config.DefaultSharedCredentialsFilename()
	}
	configFile = os.Getenv("AWS_CONFIG_FILE")
	if configFile == "" {
		configFile = filepath.Join(filepath.Dir(credFile), "config")
	}
	return credFile, configFile
}

// ResolveRegion resolves the region of service ("kinesis", "firehose" or "sts")
// the way osquery does (§3.6), with one addition:
//
//  1. the service flag (aws_kinesis_region, aws_firehose_region,
//     aws_sts_region), else aws_region;
//  2. (ours) the AWS_REGION, else AWS_DEFAULT_REGION environment variable;
//  3. the region of the profile (aws_profile_name, or default) in the shared
//     config file; when aws_profile_name is set, failing to read it is an
//     error;
//  4. us-east-1.
//
// A region from 1–3 must be a known region unless the service has an
// endpoint override (error "Invalid region <r>", or "Invalid aws_region in
// profile: <r>"). With aws_enforce_fips the region must be a FIPS region.
func (f Flags) ResolveRegion(service string) (string, error) {
	r, err := f.region(service, f.Endpoint(service) == "")
	if err != nil {
		return "", err
	}
	if f.EnforceFIPS && !fipsRegions[r] {
		return "", fmt.Errorf("Region %s is not FIPS compliant", r)
	}
	return r, nil
}

func (f Flags) region(service string, validate bool) (string, error) {
	suggested := ""
	switch service {
	case Kinesis:
		suggested = f.KinesisRegion
	case Firehose:
		suggested = f.FirehoseRegion
	case "sts":
		suggested = f.STSRegion
	}
	if suggested == "" {
		suggested = f.Region
	}
	if suggested == "" {
		suggested = os.Getenv("AWS_REGION")
	}
	if suggested == "" {
		suggested = os.Getenv("AWS_DEFAULT_REGION")
	}
	if suggested != "" {
		if validate && !ValidRegion(suggested) {
			return "", fmt.Errorf("Invalid region %s", suggested)
		}
		return suggested, nil
	}

	r, err := profileRegion(f.ProfileName)
	if err == nil {
		if validate && !ValidRegion(r) {
			return "", fmt.Errorf("Invalid aws_region in profile: %s", r)
		}
		return r, nil
	}
	if f.ProfileName != "" {
		return "", err
	}
	return DefaultRegion, nil
}

// profileRegion reads the region of profile (default when empty) from the
// shared config file.
func profileRegion(profile string) (string, error) {
	if profile == "" {
		profile = "default"
	}
	_, configFile := sharedFiles()
	if _, err := os.Stat(configFile); err != nil {
		return "", fmt.Errorf("Error reading profile file: %w", err)
	}
	sc, err := config.LoadSharedConfigProfile(context.Background(), profile, func(o *config.LoadSharedConfigOptions) {
		o.ConfigFiles = []string{configFile}
		o.CredentialsFiles = []string{}
	})
	if err != nil {
		var nf config.SharedConfigProfileNotExistError
		if errors.As(err, &nf) {
			return "", fmt.Errorf("AWS profile not found: %s", profile)
		}
		return "", fmt.Errorf("Error reading profile file: %w", err)
	}
	if sc.Region == "" {
		return "", fmt.Errorf("AWS region not found for profile: %s", profile)
	}
	return sc.Region, nil
}
