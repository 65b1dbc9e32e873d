#!/usr/bin/perl
# mimetools_extract.pl - the differential oracle's Perl MIME-tools extractor: every leaf body of a
# parsed message into OUTDIR/<n>, every recommended filename into OUTDIR/names.txt.
#   mimetools_extract.pl OUTDIR MESSAGE
#   mimetools_extract.pl --batch OUTROOT TIMEOUT MESSAGE...   (OUTROOT/<k>/ per message, k from 0;
#                                                              a failure goes to OUTROOT/<k>/error.txt)
use strict;
use warnings;
use File::Path qw(make_path);
use MIME::Parser;

sub extract {
  my ($out, $msg) = @_;
  make_path($out);
  my $parser = MIME::Parser->new;
  $parser->output_to_core(1);
  $parser->extract_nested_messages(1);
  $parser->extract_uuencode(1);
  $parser->decode_headers(0);
  $parser->ignore_errors(1);
  my $top = eval { $parser->parse_open($msg) };
  die(($@ || $parser->last_error || 'parse failed') . "\n") unless $top;
  my $n = 0;
  open(my $names, '>:raw', "$out/names.txt") or die "$out: $!\n";
  my $walk;
  $walk = sub {
    my ($e) = @_;
    my $name = $e->head->recommended_filename;
    print $names "$name\n" if defined $name && length $name;
    my @parts = $e->parts;
    if (@parts) { $walk->($_) for @parts; return; }
    my $body = $e->bodyhandle or return;
    open(my $fh, '>:raw', "$out/" . $n++) or die "$out: $!\n";
    print $fh $body->as_string;
    close $fh;
  };
  $walk->($top);
  close $names;
}

if (@ARGV >= 3 && $ARGV[0] eq '--batch') {
  my (undef, $root, $timeout, @msgs) = @ARGV;
  for my $k (0 .. $#msgs) {
    my $out = "$root/$k";
    my $ok = eval {
      local $SIG{ALRM} = sub { die "timeout after ${timeout}s\n" };
      alarm $timeout;
      extract($out, $msgs[$k]);
      alarm 0;
      1;
    };
    alarm 0;
    next if $ok;
    make_path($out);
    my $err = $@;
    if (open(my $fh, '>', "$out/error.txt")) { print $fh $err; close $fh; }
  }
  exit 0;
}
die "usage: mimetools_extract.pl OUTDIR MESSAGE | --batch OUTROOT TIMEOUT MESSAGE...\n"
  unless @ARGV == 2;
eval { extract(@ARGV); 1 } or die "mimetools_extract: $ARGV[1]: $@";
