@recovery_messages
Feature: Appendix B: Interaction Recovery Messages
  Interaction Recovery displays messages to indicate success or an error condition. The color of the
  message is significant: white text indicates success, red text denotes an error. Every error code is
  produced here by the real fault that causes it, not by a stub.

  @seed.msg.colours
  Scenario Outline: <operation> succeeds with "<message>" in white
    Given a Customer Interaction Center 360 G7 packaged server
    And <precondition>
    When I reboot the machine
    And I press F11 to enter the Boot Menu
    And I select 3) One Time Boot to USB DriveKey
    And I <action>
    And I click Confirm to proceed
    Then "<message>" appears in white

    @seed.msg.factory_done
    Examples: Factory reversion
      | operation     | precondition                          | action                                                                     | message                                                              |
      | Restore Image | the server is as the factory left it | ensure that the Standard Factory Image is selected and click Restore Image | Factory reversion complete. Click 'Restart' to restart the machine. |

    @seed.msg.restore_done
    Examples: System restore
      | operation     | precondition                           | action                                                   | message                                                           |
      | Restore Image | the current system state has been captured | select the User Configured Image and click Restore Image | System restore complete. Click 'Restart' to restart the machine. |

    @seed.msg.capture_done
    Examples: System state capture
      | operation            | precondition                          | action                     | message                                                                 |
      | Capture System Image | the server is as the factory left it | click Capture System Image | System state capture complete. Click 'Restart' to restart the machine. |

  @seed.msg.boot_sequence @seed.msg.capture_done
  Scenario: With the USB DriveKey first in the boot sequence the server reboots from the flash drive
    The note under the success messages: "When POST resumes, verify that the System BIOS boot sequence
    is set to the RAID HDD to prevent it from rebooting from the flash drive." Here the technician
    does not, and the Recovery Environment comes back.

    Given a Customer Interaction Center 360 G7 packaged server
    And the USB DriveKey has been moved to IPL:1 in the Standard Boot Order
    When I reboot the machine
    Then the server boots from the USB DriveKey
    And the Welcome to the Interaction Recovery Environment screen appears
    When I click Capture System Image
    And I click Confirm to proceed
    Then "System state capture complete. Click 'Restart' to restart the machine." appears in white
    When I click Restart
    And I select Yes to confirm that I want to restart
    Then the HP ProLiant Power-On Self-Test (POST) runs
    And the server boots from the USB DriveKey again
    And the Welcome to the Interaction Recovery Environment screen appears

  @seed.msg.failed @seed.msg.colours
  Scenario Outline: <code> - <name>: <cause>
    Given a Customer Interaction Center 360 G7 packaged server
    And <precondition>
    And <cause>
    When I reboot the machine
    And I press F11 to enter the Boot Menu
    And I select 3) One Time Boot to USB DriveKey
    And I <action>
    And I click Confirm to proceed
    Then "There was an error while trying to restore the factory image" appears in red
    And "The error code returned was: <code> - <name>." appears in red
    And a line that describes the error follows, naming "<found>"

    @seed.error.208
    Examples: 208 - IRERR: a faulty Interaction Recovery module configuration
      | code | name  | precondition                          | cause                                                                          | action                                                                     | found |
      | 208  | IRERR | the server is as the factory left it | the Interaction Recovery module configuration on the DriveKey is corrupt      | ensure that the Standard Factory Image is selected and click Restore Image | module configuration is not valid JSON |
      | 208  | IRERR | the server is as the factory left it | the Interaction Recovery module configuration on the DriveKey is missing      | ensure that the Standard Factory Image is selected and click Restore Image | no DriveKey holding IRECOVERY/module.json was found |
      | 208  | IRERR | the server is as the factory left it | the Interaction Recovery module configuration on the DriveKey is for another model | ensure that the Standard Factory Image is selected and click Restore Image | this server is a ProLiant DL360 G7 |

    @seed.error.209 @libvirt
    Examples: 209 - PARTERR: the detected and required array configurations differ
      | code | name    | precondition                          | cause                            | action                                                                     | found |
      | 209  | PARTERR | the server is as the factory left it | the drive in bay 2 has failed    | ensure that the Standard Factory Image is selected and click Restore Image | logical drive 1 status is Interim Recovery Mode, not OK |

    @seed.error.210
    Examples: 210 - BSGERR: the logical drive's boot partition does not suit the image
      | code | name   | precondition                          | cause                                                                                   | action                                                                     | found |
      | 210  | BSGERR | the server is as the factory left it | the logical drive has been recreated in ORCA with Maximum Boot partition Enable (8GB maximum) | ensure that the Standard Factory Image is selected and click Restore Image | logical drive 1 has Maximum Boot partition 8GB; required: 4GB |

    @seed.error.211
    Examples: 211 - IMGERR: a faulty Standard Factory Image
      | code | name   | precondition                          | cause                                                        | action                                                                     | found |
      | 211  | IMGERR | the server is as the factory left it | the Standard Factory Image on the DriveKey is corrupt       | ensure that the Standard Factory Image is selected and click Restore Image | image IMAGES/FACTORY is corrupt |
      | 211  | IMGERR | the server is as the factory left it | the Standard Factory Image on the DriveKey is truncated    | ensure that the Standard Factory Image is selected and click Restore Image | image IMAGES/FACTORY is corrupt |
      | 211  | IMGERR | the server is as the factory left it | the Standard Factory Image on the DriveKey is missing      | ensure that the Standard Factory Image is selected and click Restore Image | no image at IMAGES/FACTORY |

    @seed.error.212
    Examples: 212 - DICAERR: the module configuration and the image disagree
      | code | name    | precondition                          | cause                                                                  | action                                                                     | found |
      | 212  | DICAERR | the server is as the factory left it | the Standard Factory Image on the DriveKey is for another device type | ensure that the Standard Factory Image is selected and click Restore Image | is a factory image for Interaction Application Server |

    @seed.error.213
    Examples: 213 - CAPTERR: the capture cannot be written
      | code | name    | precondition                          | cause                   | action                     | found |
      | 213  | CAPTERR | the server is as the factory left it | the DriveKey is read-only | click Capture System Image | capture into IMAGES/USER failed |

    @seed.error.214
    Examples: 214 - RESTERR: the saved system state is faulty
      | code | name    | precondition                               | cause                                               | action                                                   | found |
      | 214  | RESTERR | the current system state has been captured | the saved system state on the DriveKey is corrupt | select the User Configured Image and click Restore Image | image IMAGES/USER is corrupt |

    @seed.error.215
    Examples: 215 - RESTERR: the disks differ from those the state was captured on
      | code | name    | precondition                               | cause                                                                                           | action                                                   | found |
      | 215  | RESTERR | the current system state has been captured | every drive has been replaced with a new 600GB drive and the logical drive recreated in ORCA | select the User Configured Image and click Restore Image | holds 1200187424768 bytes, the image needs |

    @seed.error.216
    Examples: 216 - DPARTERR: writing the partitions fails
      | code | name     | precondition                          | cause                                               | action                                                                     | found |
      | 216  | DPARTERR | the server is as the factory left it | writing to the logical drive fails beyond 300MiB | ensure that the Standard Factory Image is selected and click Restore Image | one of: File too large; Input/output error |

  @seed.error.213 @seed.capture.note_one
  Scenario: A capture that fails keeps the previous capture
    Given a Customer Interaction Center 360 G7 packaged server
    And the administrator has written "captured first" to "/config/first.conf"
    And the current system state has been captured
    And the administrator has written "captured second" to "/config/second.conf"
    And the DriveKey is full
    When I reboot the machine
    And I press F11 to enter the Boot Menu
    And I select 3) One Time Boot to USB DriveKey
    And I click Capture System Image
    And I click Confirm to proceed
    Then "The error code returned was: 213 - CAPTERR." appears in red
    And the DriveKey holds exactly one User Configured Image, captured from the Customer Interaction Center
    And the User Configured Image on the DriveKey holds "captured first" in "/config/first.conf"

  @doc_discrepancy @seed.error.216
  Scenario: 216 - DPARTERR also ends a factory restore; the Restore/Capture tab leads back to try again
    Reason: Appendix B words 216 for "the previously saved system state", but writing partitions can
    fail in a factory restore as well, and we report it with the same code and the same advice. The
    retry succeeds once the disk writes work again (here: after the next boot of the DriveKey).

    Given a Customer Interaction Center 360 G7 packaged server
    And writing to the logical drive fails beyond 300MiB
    When I reboot the machine
    And I press F11 to enter the Boot Menu
    And I select 3) One Time Boot to USB DriveKey
    And I ensure that the Standard Factory Image is selected and click Restore Image
    And I click Confirm to proceed
    Then "The error code returned was: 216 - DPARTERR." appears in red
    When I click the Restore/Capture tab
    Then the Welcome to the Interaction Recovery Environment screen appears
    When I click Shutdown and confirm
    And the disk write fault is cleared
    And I reboot the machine
    And I press F11 to enter the Boot Menu
    And I select 3) One Time Boot to USB DriveKey
    And I ensure that the Standard Factory Image is selected and click Restore Image
    And I click Confirm to proceed
    Then "Factory reversion complete. Click 'Restart' to restart the machine." appears in white

  @doc_discrepancy @seed.error.209
  Scenario: The error code is followed by a line that says what was found, not by Appendix B's explanation
    Reason: Appendix B explains each code ("This error usually indicates a variation between the
    detected and required array configurations."); the screen shows the code line, then one line naming
    what exactly was detected, which helps the technician more. The explanation stays in this document.

    Given a Customer Interaction Center 360 G7 packaged server
    And the drive in bay 2 has failed
    When I reboot the machine
    And I press F11 to enter the Boot Menu
    And I select 3) One Time Boot to USB DriveKey
    And I ensure that the Standard Factory Image is selected and click Restore Image
    And I click Confirm to proceed
    Then "The error code returned was: 209 - PARTERR." appears in red
    And a line that describes the error follows, naming "Interim Recovery Mode"
    And "This error usually indicates" appears nowhere on the console
